"""A picture from start to end: stages (coarse to fine), starting images, style targets, the
Python API (`pictures.transfer`, `pictures.transfer_batch`) and files in, file out (`files`).

May import: `optimize`, `network`, `io`, `config`, `errors`.
"""
