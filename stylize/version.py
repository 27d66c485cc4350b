"""The package's version and distribution name: the one place each is written (pyproject.toml reads the version)."""

__version__ = "0.1.0"

# The name on PyPI, for `pip install`: `stylize` there is an unrelated code formatter, so the
# distribution is `neural-stylize` while the import package and the command stay `stylize`.
DISTRIBUTION = "neural-stylize"


def pip_install(extra: str) -> str:
    """The command that adds an optional extra, e.g. pip install 'neural-stylize[video]' (for --help and docs)."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def install_hint(extra: str) -> str:
    """What to run to add `extra` to this very installation: from the folder it was installed from
    (a clone, `pip install -e .`), else by the distribution's name."""
    import json
    import urllib.parse
    from importlib import metadata

    try:
        direct = json.loads(metadata.distribution(DISTRIBUTION).read_text("direct_url.json") or "null")
    except (metadata.PackageNotFoundError, ValueError):
        direct = None
    if isinstance(direct, dict) and "dir_info" in direct and str(direct.get("url", "")).startswith("file://"):
        folder = urllib.parse.unquote(urllib.parse.urlparse(direct["url"]).path)
        editable = "-e " if direct["dir_info"].get("editable") else ""
        return f"pip install {editable}'{folder}[{extra}]'"
    return pip_install(extra)


def installed_version(name: str) -> str:
    """The installed version of distribution `name`, or "not installed"."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"
