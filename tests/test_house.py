"""The house rules, checked so that they cannot drift: imports run downward along the data path,
modules and functions stay small, every module says what it is for, and the Layout in docs/contributing.md
is the package as it is (`python tests/test_house.py` prints the Layout to paste)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "stylize"

# Lower rank = nearer the files and tensors. A module may import its own package and any of lower
# rank; never upward, and never a sibling of the same rank (io and network know nothing of each
# other). preview/ and video/ are where the live page and frame sequences will go.
RANKS = {
    "errors": 0,
    "version": 0,
    "config": 1,
    "io": 2,
    "network": 2,
    "losses": 3,
    "optimize": 4,
    "run": 5,
    "video": 6,
    "batch": 7,
    "preview": 8,
    "fleet": 8,
    "cli": 9,
    "": 10,  # the package's own __init__ (the public API) and __main__
}
# The order the Layout lists the packages in: the data path, from the command down to the errors.
LAYOUT_ORDER = ["", "cli", "preview", "fleet", "batch", "video", "run", "optimize", "losses", "network", "io", "config",
                "errors", "version"]  # fmt: skip
MAX_MODULE_LINES = 250
MAX_FUNCTION_LINES = 50
LONG_FUNCTIONS_ALLOWED = {"stylize/cli/command.py:main"}  # the click declaration: one decorator per flag


def unit_of(module: str) -> str:
    """'stylize.run.files' -> 'run'; 'stylize.config' -> 'config'; 'stylize' -> ''."""
    parts = module.split(".")
    return "" if len(parts) == 1 or parts[1] in ("__init__", "__main__") else parts[1]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str, root: Path) -> bool:
    path = root.parent.joinpath(*name.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import of the package in `path`, in functions and
    TYPE_CHECKING blocks too."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            names = [f"{source}.{alias.name}" for alias in node.names]  # from . import a: the module a, if it is one
            found += [(node.lineno, n if is_module(n, root) else source) for n in names]
    top = root.name
    return [(line, module) for line, module in found if module == top or module.startswith(top + ".")]


def import_violations(root: Path) -> list[str]:
    """Every import that runs upward or sideways, as 'file:line: a -> b (why)'."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        here = unit_of(module_name(path, root))
        for line, module in imported_modules(path, root):
            there = unit_of(module)
            where = f"{path.relative_to(root.parent)}:{line}: {here or 'stylize'} -> {there or 'stylize'}"
            if here not in RANKS or there not in RANKS:
                problems.append(f"{where} (a package missing from RANKS in tests/test_house.py)")
            elif there != here and RANKS[there] >= RANKS[here]:
                problems.append(f"{where} ({'sideways' if RANKS[there] == RANKS[here] else 'upward'})")
    return problems


def test_imports_run_down_the_data_path() -> None:
    assert import_violations(PACKAGE) == []


def fake_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "stylize"
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    return package


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"io/saving.py": "from .. import __version__\n"}, "io -> stylize (upward)"),
        ({"io/saving.py": "from ..run.files import save_result\n"}, "io -> run (upward)"),
        ({"network/x.py": "from ..io import reading\n"}, "network -> io (sideways)"),
        ({"optimize/x.py": "def f():\n    from stylize.batch.plan import Job\n"}, "optimize -> batch (upward)"),
        ({"config.py": "from .network.layers import preset\n"}, "config -> network (upward)"),
        ({"run/x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..cli import main\n"},
         "run -> cli (upward)"),
        ({"gallery/x.py": "from ..io import saving\n"}, "gallery -> io (a package missing from RANKS"),
    ],
)
def test_the_import_check_catches_upward_and_sideways_imports(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    (problem,) = import_violations(fake_package(tmp_path, files))
    assert expected in problem


def test_the_import_check_allows_downward_and_own_package_imports(tmp_path: Path) -> None:
    package = fake_package(tmp_path, {
        "run/files.py": "from ..io.saving import save_image\nfrom . import pictures\nfrom .pictures import transfer\n",
        "cli/command.py": "from ..batch import plan\nfrom ..version import __version__\nimport torch\n",
        "__init__.py": "from .run.files import stylize_file\n",
    })  # fmt: skip
    assert import_violations(package) == []


def source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_modules_are_small() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in source_files()}
    long = {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES}
    assert long == {}, f"modules over {MAX_MODULE_LINES} lines: split them by job"


def test_functions_are_small() -> None:
    long = {}
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                where = f"{path.relative_to(ROOT)}:{node.name}"
                if lines > MAX_FUNCTION_LINES and where not in LONG_FUNCTIONS_ALLOWED:
                    long[where] = lines
    assert long == {}, f"functions over {MAX_FUNCTION_LINES} lines: split them into named phases"


def test_every_module_opens_with_a_docstring() -> None:
    missing = [str(p.relative_to(ROOT)) for p in source_files() if not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []


def summary(path: Path) -> str:
    """The first line of a module's docstring."""
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    return docstring.splitlines()[0].rstrip(".") if docstring else ""


def package_lines(folder: Path, depth: int, width: int) -> list[str]:
    """A package's line, then its modules' and its sub-packages' (indented one more level)."""
    indent = "  " * depth
    lines = [f"{indent}{folder.name + '/':<{width - 2 * (depth - 1)}}{summary(folder / '__init__.py')}"]
    modules = [p for p in sorted(folder.glob("*.py")) if p.stem != "__init__"]
    lines += [f"{indent}  {p.name:<{width - 2 * depth}}{summary(p)}" for p in modules]
    for sub in sorted(p for p in folder.iterdir() if (p / "__init__.py").is_file()):
        lines += package_lines(sub, depth + 1, width)
    return lines


def layout() -> str:
    """The package tree with each package's and module's one-line summary, in data-path order."""
    width = 18
    lines = ["stylize/"]
    for unit in LAYOUT_ORDER:
        folder, module = PACKAGE / unit, PACKAGE / f"{unit}.py"
        if not unit:
            lines += [f"  {name:<{width}}{summary(PACKAGE / name)}" for name in ("__init__.py", "__main__.py")]
        elif folder.is_dir():
            lines += package_lines(folder, 1, width)
        elif module.is_file():
            lines.append(f"  {module.name:<{width}}{summary(module)}")
    return "\n".join(lines)


def readme_layout() -> str:
    text = (ROOT / "docs" / "contributing.md").read_text()
    section = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, "docs/contributing.md has no '## Layout' section"
    block = re.search(r"```text\n(.*?)```", section.group(1), re.S)
    assert block, "the Layout section has no ```text block"
    return block.group(1).rstrip("\n")


def test_the_layout_lists_every_package_in_order() -> None:
    units = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    units |= {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("__")}
    assert units <= set(LAYOUT_ORDER), f"add {sorted(units - set(LAYOUT_ORDER))} to LAYOUT_ORDER and RANKS"


def test_the_readme_layout_is_the_package_as_it_is() -> None:
    assert readme_layout() == layout(), (
        "the Layout in docs/contributing.md is stale: paste the output of `python tests/test_house.py`"
    )


if __name__ == "__main__":
    print(layout())
