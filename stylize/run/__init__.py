"""A picture from start to end: the stages, starts and targets of a run; images in, files in and out.

Coarse-to-fine stages, starting images, style targets, the Python API (`pictures.transfer`,
`pictures.transfer_batch`) and files in, file out (`files.stylize_file`).

May import: `optimize`, `network`, `io`, `config`, `errors`.
"""
