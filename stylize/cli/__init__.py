"""The command line: flags -> Config, the run, progress, messages and exit codes.

The only package that prints or exits, and the only importer of click and tqdm. May import
every package below it; none imports it.
"""

from .command import main
from .process import run
from .settings import build_config

__all__ = ["build_config", "main", "run"]
