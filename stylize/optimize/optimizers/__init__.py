"""The optimisers as coroutines over one image (`protocol`): L-BFGS with its curvature memory and
line search, and Adam."""
