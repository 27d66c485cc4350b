"""The live page (optional extra `neural-stylize[preview]`): watch and steer a run in a browser while it works."""
