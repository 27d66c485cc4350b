"""The package's version and distribution name: the one place each is written (pyproject.toml reads the version)."""

__version__ = "0.1.0"

# The name on PyPI, for `pip install`: `stylize` there is an unrelated code formatter, so the
# distribution is `neural-stylize` while the import package and the command stay `stylize`.
DISTRIBUTION = "neural-stylize"


def pip_install(extra: str) -> str:
    """The command that adds an optional extra, e.g. pip install 'neural-stylize[video]'."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"
