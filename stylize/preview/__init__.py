"""The live page (optional extra `stylize[preview]`): watch and steer a run in a browser while it works."""
