"""The frozen VGG network: layer names and choices, weights, the hooked extractor, precision, devices.

May import: `config`, `errors`. Never `io` (its sibling below the optimiser) or anything above.
"""
