"""Pixels are the parameters: losses, objective, L-BFGS and Adam as coroutines, evaluation, engine.

Tensors in, tensors out: no files, no printing. May import: `network`, `config`, `errors`.
"""
