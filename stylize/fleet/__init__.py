"""Many inputs on a Ray cluster: workers (actors) each holding a network, the driver planning, sending, writing.

The driver plans the work as a local run does (batch/), sends each batch's pictures as bytes to a
worker, and writes every result itself through run/'s one save path, so a fleet's files are the
same bytes as a local run's. Ray is an optional extra (`pip install 'neural-stylize[ray]'`).
"""
