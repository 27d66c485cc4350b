"""The documentation site: it builds strictly, its CLI reference is the command's own help, and every
benchmark page says on which machine, with which torch and when its figures were measured."""

from __future__ import annotations

import html
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from stylize.cli.command import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MACHINES = ("CPU-bf16", "CPU-AVX2", "GPU-H200")


def test_the_cli_reference_is_generated_from_the_command() -> None:
    page = (DOCS / "reference" / "cli.md").read_text()
    assert ":module: stylize.cli.command" in page and ":command: main" in page
    assert "--style-weight" not in page, "the flags come from the command, not from text written by hand"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = pytest.importorskip("mkdocs.commands.build")
    config_module = pytest.importorskip("mkdocs.config")
    target = tmp_path_factory.mktemp("site")
    config = config_module.load_config(str(ROOT / "mkdocs.yml"), site_dir=str(target), strict=True)
    build.build(config)  # strict: a broken link, a missing page or a bad reference raises
    return target


def _text(page: Path) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())))


def test_the_built_cli_page_has_every_flag_with_its_help(site: Path) -> None:
    page = _text(site / "reference" / "cli" / "index.html")
    help_text = re.sub(r"\s+", " ", CliRunner().invoke(main, ["--help"], terminal_width=100).output)
    for param in main.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.opts[-1] in page, param.opts
            assert param.help and param.help.split(".")[0][:40] in help_text
    weight = next(p for p in main.params if "--style-weight" in p.opts)
    assert isinstance(weight, click.Option) and weight.help
    assert weight.help.split(".")[0] in page


def test_the_built_api_page_documents_the_entry_points(site: Path) -> None:
    page = _text(site / "reference" / "api" / "index.html")
    for name in ("stylize_file", "transfer", "transfer_batch", "harmonize", "Harmonize", "load_network", "Config",
                 "StylizeError"):
        assert name in page, name


def test_every_benchmark_page_names_its_machine_torch_and_date() -> None:
    machines = (DOCS / "benchmarks" / "index.md").read_text()
    assert all(f"**{name}**" in machines for name in MACHINES)
    for page in sorted((DOCS / "benchmarks").glob("*.md")):
        if page.name == "index.md":
            continue
        text = page.read_text()
        boxes = re.findall(r'!!! info "Measured on"\n((?: {4}.*\n)+)', text)
        assert boxes, f"{page.name} says nowhere where its figures were measured"
        for box in boxes:
            assert any(name in box for name in MACHINES), (page.name, box)
            assert re.search(r"torch \d+\.\d+", box) and re.search(r"20\d\d-\d\d-\d\d", box), (page.name, box)


def test_user_pages_need_nothing_from_outside_the_clone() -> None:
    for page in [DOCS / "index.md", DOCS / "install.md", *sorted((DOCS / "guides").glob("*.md")),
                 *sorted((DOCS / "reference").glob("*.md"))]:  # fmt: skip
        assert "../shared" not in page.read_text(), page.name
