"""The README as a newcomer meets it: short, every everyday task near the top, every command working as written.

The commands run from a folder that holds the repository's samples, as a clone's root does. The
`bash` blocks go through bash with `stylize` standing for this Python's `stylize`, at a tiny size
and 2 iterations (the last `--size` wins), or with `--dry-run` where the real thing needs a video
decoder's time or a browser (`--video`, `--preview`); the `python` block runs with its size made
tiny. Blocks marked `text` are not commands of this kind (the set-up scripts, output).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import read_rgb

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TASKS = ("One picture", "A folder", "Keep the photo's colours", "A big print", "A video", "Watch it", "From Python")
TINY = "--size 40 --iterations 2"


def blocks(language: str) -> list[tuple[int, str]]:
    """(line number of the opening fence, body) of every fenced block in `language`."""
    found = []
    for match in re.finditer(rf"^```{language}\n(.*?)^```", README, re.S | re.M):
        found.append((README.count("\n", 0, match.start()) + 1, match.group(1)))
    return found


def test_the_readme_is_short_and_every_task_is_near_the_top() -> None:
    lines = README.splitlines()
    assert len(lines) <= 200, f"README has {len(lines)} lines"
    for task in TASKS:
        at = next((n for n, line in enumerate(lines, 1) if line.startswith(f"**{task}")), None)
        assert at is not None, f"no everyday task {task!r} in the README"
        command = next((n for n, line in enumerate(lines[at:], at + 1) if line.startswith("```")), None)
        assert command is not None and command <= 120, f"{task!r}: its command starts on line {command}"


def test_the_readme_holds_no_figure_and_nothing_from_outside_the_clone() -> None:
    assert "../shared" not in README
    assert not re.search(r"\d+(\.\d+)? ?(s|ms|min|GiB|MB)\b", README), "figures belong on the benchmark pages"
    assert re.search(r"^scripts/try ", README, re.M) and re.search(r"^scripts/check ", README, re.M)


def _stylize_function() -> str:
    """A bash function `stylize` that runs this Python's stylize, tiny, or as a dry run where it must."""
    return f"""
stylize() {{
    case " $* " in
        *" --inspect "*|*" --version "*|*" --help "*|*" --list-layers "*) "{sys.executable}" -m stylize "$@" ;;
        *" --video "*|*" --preview "*) "{sys.executable}" -m stylize "$@" --dry-run ;;
        *) "{sys.executable}" -m stylize "$@" {TINY} ;;
    esac
}}
set -euo pipefail
"""


@pytest.mark.slow
def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    commands = blocks("bash")
    assert len(commands) >= 6
    for line, body in commands:
        done = subprocess.run(["bash", "-c", _stylize_function() + body], cwd=tmp_path, capture_output=True,
                              text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, f"README block at line {line} failed:\n{body}\n{done.stderr[-2000:]}"
    for made in ("cat.png", "cat-strong.png", "cat-colours.png", "cat-two.png", "print.png"):
        assert read_rgb(tmp_path / made).size[0] == 40, made
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["chelsea_swirls.png", "coffee_swirls.png"]
    logged = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert [entry["status"] for entry in logged] == ["done", "done"]
    assert not (tmp_path / "frames").exists() and not (tmp_path / "cat-live.png").exists()  # dry runs


@pytest.mark.slow
def test_the_readme_python_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    ((_, code),) = blocks("python")
    assert "stylize.Config(size=256, seed=1)" in code
    tiny = code.replace("stylize.Config(size=256, seed=1)", "stylize.Config(size=40, seed=1, iterations=2)")
    done = subprocess.run([sys.executable, "-c", tiny], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    iterations, content, style = done.stdout.split()
    assert int(iterations) == 2 and float(content) >= 0 and float(style) >= 0
    assert read_rgb(tmp_path / "cat-api.png").size[0] == 40
