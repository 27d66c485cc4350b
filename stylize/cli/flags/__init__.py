"""The command's flags, in groups: each group a list of click options, their defaults from Config."""
