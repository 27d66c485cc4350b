"""The work list: one job per result, with its output name; shards; what a rerun can skip."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..errors import SettingsError
from ..io.formats import OUTPUT_FORMATS

DEFAULT_NAME = "{content}_{style}.png"
NAME_FIELDS = ("content", "style", "index", "seed", "size")


@dataclass(frozen=True)
class Job:
    index: int  # 1-based position in the whole (unsharded) work list
    content: Path
    styles: tuple[Path, ...]  # blended into one picture
    output: Path


def make_jobs(
    contents: Sequence[Path],
    styles: Sequence[Path],
    output: Path,
    folder: bool,
    config: Config,
    each_style: bool = False,
    name: str = DEFAULT_NAME,
) -> list[Job]:
    """Every content photo against the blend of all styles, or (`each_style`) against each style.

    `folder`: `output` is a folder and names come from the `name` template; otherwise `output`
    is the one result's file name.
    """
    groups = [(s,) for s in styles] if each_style else [tuple(styles)]
    pairs = [(c, g) for c in contents for g in groups]
    if not folder:
        if len(pairs) != 1:
            raise SettingsError(f"-o {output} names a file, but there are {len(pairs)} results",
                                hint="give a folder (e.g. -o out/) and, if you like, --name")  # fmt: skip
        return [Job(1, pairs[0][0], pairs[0][1], output)]
    check_name_template(name)
    jobs = [Job(i, c, g, output / output_name(name, i, c, g, config)) for i, (c, g) in enumerate(pairs, 1)]
    check_distinct(jobs)
    return jobs


def check_name_template(name: str) -> None:
    """Unknown fields, bad syntax, a path that leaves the folder, or an extension we cannot write: SettingsError."""
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(name) if f is not None}
    except ValueError as err:
        raise SettingsError(f"--name {name!r}: {err}", hint="fields go in braces, e.g. {content}_{style}.png") from None
    unknown = sorted(f for f in fields if f.split(".")[0].split("[")[0] not in NAME_FIELDS)
    if unknown:
        raise SettingsError(f"--name {name!r}: unknown field {{{unknown[0]}}}",
                            hint=f"fields: {', '.join(NAME_FIELDS)}")  # fmt: skip
    if "/" in name or "\\" in name or name.startswith("."):
        raise SettingsError(f"--name {name!r}: a name, not a path", hint="results go into the -o folder")
    suffix = Path(name.replace("{", "").replace("}", "")).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise SettingsError(f"--name {name!r}: unsupported extension {suffix or '(none)'!r}",
                            hint=f"use one of {', '.join(sorted(OUTPUT_FORMATS))}")  # fmt: skip


def output_name(name: str, index: int, content: Path, styles: tuple[Path, ...], config: Config) -> str:
    """The template filled in; a value that would make it a path (a separator, '..') is refused."""
    try:
        filled = name.format(content=content.stem, style="+".join(s.stem for s in styles), index=index,
                             seed=config.seed, size=config.size)  # fmt: skip
    except (ValueError, IndexError, KeyError, AttributeError) as err:
        raise SettingsError(f"--name {name!r}: {err}", hint="e.g. {content}_{style}.png or {index:04d}.jpg") from None
    if re.search(r"[/\\\x00]", filled) or filled in (".", "..") or filled.startswith("."):
        raise SettingsError(f"--name {name!r} gives {filled!r} for {content}, which is not a plain file name")
    return filled


def check_distinct(jobs: Sequence[Job]) -> None:
    seen: dict[Path, Job] = {}
    for job in jobs:
        if job.output in seen:
            raise SettingsError(
                f"{seen[job.output].content} and {job.content} would both be written to {job.output}",
                hint="add {index} to --name, e.g. --name '{index:04d}_{content}_{style}.png'",
            )
        seen[job.output] = job


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """'K/N' -> (K, N), 1 <= K <= N."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise SettingsError(f"--shard {text!r}: expected K/N with 1 <= K <= N", hint="e.g. --shard 2/4")
    return int(match[1]), int(match[2])


def shard(jobs: Sequence[Job], which: tuple[int, int] | None) -> list[Job]:
    """The K-th of N interleaved slices (jobs K, K+N, K+2N, ...): fixed by the work list alone, so
    N processes that each take their own K together do every job exactly once."""
    if which is None:
        return list(jobs)
    k, n = which
    return [job for job in jobs if (job.index - 1) % n == k - 1]


def is_done(job: Job) -> bool:
    """A finished result is on disk (results appear only complete: written aside, then renamed)."""
    return job.output.is_file()
