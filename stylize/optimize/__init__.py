"""Pixels are the parameters: the objective over a batch, its evaluation, the engine loop, steering and
stopping; `optimizers/` (L-BFGS and Adam as coroutines), `tiles/` (one evaluation in tiles).

Tensors in, tensors out: no files, no printing. May import: `losses`, `network`, `config`, `errors`.
"""
