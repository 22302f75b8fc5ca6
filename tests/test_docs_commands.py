"""Every command the docs name exists: `tierwise <command>`, `bench/<file>.py` and `make <target>`.

Scanned: README.md and every docs/**/*.md, the benchmark history (docs/benchmarks/history/) included, since its
old rounds name only commands that still exist. Where each kind of name is looked for:
- `tierwise <command>` (also `.venv/bin/tierwise <command>` and `python -m app.cli <command>`) in code spans and
  code blocks, checked against the click group's commands (`app.cli.cli.commands`); for a command that is itself a
  group (`tierwise export focus`), the next word is checked against its subcommands;
- `make <target>` in code spans and code blocks, checked against the targets the Makefile defines;
- `bench/<file>.py` anywhere in the text (prose names the scripts too), checked on disk.
Words after `tierwise` that are program output, not a command line, are listed in NOT_COMMANDS with their source.
Each test fails with the list of missing names and the files that name them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click

from app.cli import cli

ROOT = Path(__file__).resolve().parents[1]

FENCE = re.compile(r"^[ \t]*(```|~~~)")
SPAN = re.compile(r"(`+)(.+?)\1", re.S)
# `tierwise` as a word (a path such as .venv/bin/ may stand before it), then the command and, for a group, a subcommand.
TIERWISE = re.compile(r"(?<![\w.-])(?:tierwise|-m[ \t]+app\.cli)[ \t]+([a-z][\w-]*)(?:[ \t]+([a-z][\w-]*))?")
MAKE = re.compile(r"(?<![\w./$-])make[ \t]+([^\n`;&|#]*)")
# Words after `tierwise` in a code span that are not a command line, each with where it comes from.
NOT_COMMANDS = {("dashboard", "ready"): "the line `tierwise serve` prints once it answers (docs/dashboard.md)"}
BENCH = re.compile(r"(?<![\w./-])bench/([\w/-]+\.py)\b")
MAKE_RULE = re.compile(r"^([A-Za-z0-9_./-]+(?:[ \t]+[A-Za-z0-9_./-]+)*)[ \t]*:(?!=)", re.M)


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def code_texts(text: str) -> Iterator[str]:
    """The contents of every fenced code block, then of every inline code span outside them."""
    prose: list[str] = []
    block: list[str] | None = None
    for line in text.splitlines():
        if FENCE.match(line):
            if block is None:
                block = []
            else:
                yield "\n".join(block)
                block = None
        elif block is not None:
            block.append(line)
        else:
            prose.append(line)
    if block is not None:  # an unclosed fence runs to the end of the file
        yield "\n".join(block)
    for paragraph in re.split(r"\n[ \t]*\n", "\n".join(prose)):  # a code span never crosses a blank line
        for m in SPAN.finditer(paragraph):
            yield m.group(2)


def named(pattern: re.Pattern[str], *, code_only: bool) -> dict[tuple[str, ...], set[str]]:
    """Each match's groups (None dropped) -> the files, relative to the repository, that name it."""
    found: dict[tuple[str, ...], set[str]] = {}
    for path in doc_files():
        text = path.read_text(encoding="utf-8")
        for chunk in (code_texts(text) if code_only else [text]):
            for m in pattern.finditer(chunk):
                key = tuple(g for g in m.groups() if g is not None)
                found.setdefault(key, set()).add(str(path.relative_to(ROOT)))
    return found


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {t for m in MAKE_RULE.finditer(text) for t in m.group(1).split()}


def missing_report(missing: dict[str, set[str]]) -> str:
    return "\n".join(f"  {name}  (named in {', '.join(sorted(files))})" for name, files in sorted(missing.items()))


def test_docs_name_only_existing_tierwise_commands() -> None:
    found = named(TIERWISE, code_only=True)
    assert ("ingest",) in {k[:1] for k in found}, "the scan found no `tierwise ingest`: the pattern is broken"
    missing: dict[str, set[str]] = {}
    for key, files in found.items():
        if key in NOT_COMMANDS:
            continue
        command = cli.commands.get(key[0])
        if command is None:
            missing.setdefault(f"tierwise {key[0]}", set()).update(files)
        elif isinstance(command, click.Group) and len(key) > 1 and key[1] not in command.commands:
            missing.setdefault(f"tierwise {key[0]} {key[1]}", set()).update(files)
    assert not missing, "commands named in the docs that `tierwise` does not have:\n" + missing_report(missing)


def test_docs_name_only_existing_bench_scripts() -> None:
    found = named(BENCH, code_only=False)
    assert ("ingest.py",) in found, "the scan found no bench/ingest.py: the pattern is broken"
    missing = {f"bench/{key[0]}": files for key, files in found.items() if not (ROOT / "bench" / key[0]).is_file()}
    assert not missing, "bench scripts named in the docs that are not in bench/:\n" + missing_report(missing)


def test_docs_name_only_existing_make_targets() -> None:
    targets = make_targets()
    assert {"demo", "test"} <= targets, f"the Makefile's targets were not read: {sorted(targets)}"
    missing: dict[str, set[str]] = {}
    seen: set[str] = set()
    for (words,), files in named(MAKE, code_only=True).items():
        for word in words.split():
            if "=" in word or word.startswith("-"):  # a variable (make demo LOGIN=x) or an option
                continue
            if not re.fullmatch(r"[A-Za-z0-9_./-]+", word):
                break
            seen.add(word)
            if word not in targets:
                missing.setdefault(f"make {word}", set()).update(files)
    assert "demo" in seen, "the scan found no `make demo`: the pattern is broken"
    assert not missing, "make targets named in the docs that the Makefile does not define:\n" + missing_report(missing)
