"""Pixels are the parameters: losses, the objective, L-BFGS and Adam as coroutines, evaluation, the engine.

Tensors in, tensors out: no files, no printing. May import: `network`, `config`, `errors`.
"""
