"""Many inputs -> many outputs: finding the images, naming and planning the work, running it.

`inputs` finds images in files, folders and globs; `plan` turns them into jobs with output
names, shards and skips; `runner` makes the pictures batch by batch and reports each outcome;
`report` holds the outcomes, the summary and the JSON-lines log.

May import: `run`, `optimize`, `network`, `io`, `config`, `errors`. Never `cli`.
"""
