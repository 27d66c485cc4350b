"""Files <-> images and tensors: reading, formats, resizing, atomic saving, the metadata results carry.

May import: `config`, `errors`. Never `network` (its sibling below the optimiser) or anything above.
"""
