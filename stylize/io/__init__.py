"""Files <-> images and tensors: reading, formats, resizing, atomic saving, metadata.

May import: `config`, `errors`. Never `network` (its sibling below the optimiser) or anything above.
"""
