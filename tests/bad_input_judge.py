"""Judging one bad-input case from what `tierwise ingest` and `tierwise quarantine` did: crash, hang, silent drop,
unclear message (the four the corpus must find none of), plus good rows lost with a reason, for the record."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bad_input_corpus import Case

# Internals a person cannot act on: Python exception names, orjson's, protobuf's and DuckDB's texts and advice.
LEAKS = re.compile(r"[A-Za-z]*[a-z](?:Error|Exception)\b|BadGzipFile|ArrowInvalid|Traceback|surrogates not allowed"
                   r"|\bchar 0\b|\b(?:Conversion|Binder|Parser|Catalog|Invalid Input|Internal) Error\b|strict_mode"
                   r"|ignore_errors|sniff|Error parsing message")
KINDS = {"crash": "crashes", "hang": "hangs", "silent drop": "silent drops", "unclear message": "unclear messages"}


@dataclass(frozen=True)
class Outcome:
    """What running one case did (`stored`: spans, metric points and cost rows in the store afterwards)."""

    index: int
    source: str  # the case file's path, as the commands print it
    exit_code: int | None = None
    exception: str = ""  # `Type: message` of an exception other than SystemExit that escaped `tierwise ingest`
    output: str = ""  # what `tierwise ingest` printed (stdout and stderr)
    quarantine_exit: int | None = None
    quarantine: str = ""  # what `tierwise quarantine` printed
    stored: int = 0
    status: str = ""  # the file's status in the ledger (complete, partial, unreadable), "" when it has no row
    seconds: float = 0.0
    hung: bool = False
    died: str = ""  # how the process running the case ended, when it did not finish the case


@dataclass(frozen=True)
class Verdict:
    """The problems one case showed, by kind; the good rows lost although something said why, and rows stored that
    the file never held (both for the record, not failures)."""

    case: Case
    problems: tuple[tuple[str, str], ...]  # (kind, what)
    lost_explained: int = 0
    beyond: int = 0  # rows stored beyond those the file held before its damage (garbage read as data)

    def has(self, kind: str) -> bool:
        return any(k == kind for k, _ in self.problems)


@dataclass(frozen=True)
class Listed:
    """`tierwise quarantine` lines of one file: its file-level reason (if any) and its records (number, reason)."""

    file_reasons: tuple[str, ...]
    records: tuple[tuple[int, str], ...]


def listed(source: str, text: str) -> Listed:
    """Parse `file: status file, N rows kept: reason` and `file:record: item field: reason` lines of `source`."""
    files, records = [], []
    for line in text.splitlines():
        if line.startswith(f"{source}: "):
            files.append(line.split(" rows kept: ", 1)[1] if " rows kept: " in line else "")
        elif (m := re.match(re.escape(source) + r":(-?\d+): (.*)$", line)) is not None:
            records.append((int(m[1]), m[2].split(": ", 1)[1] if ": " in m[2] else ""))
    return Listed(tuple(files), tuple(records))


def judge(case: Case, out: Outcome) -> Verdict:
    """The verdict on one case, by the rules in tests/test_bad_input_corpus.py's docstring."""
    problems: list[tuple[str, str]] = []
    if out.hung:
        return Verdict(case, (("hang", "no answer within the time limit"),))
    if out.died:
        return Verdict(case, (("crash", out.died),))
    if out.exception or "Traceback" in out.output or out.exit_code not in (0, 1):
        problems.append(("crash", "a traceback in the output" if "Traceback" in out.output
                         else out.exception or f"exit code {out.exit_code}"))
    if out.quarantine_exit != 0:
        problems.append(("crash", f"`tierwise quarantine` exited {out.quarantine_exit}: {out.quarantine[-300:]}"))
    seen = listed(out.source, out.quarantine)
    lost, named = max(0, case.sent - out.stored), {n for n, _ in seen.records}
    explained = bool(seen.file_reasons or named & case.good) or (lost <= case.collateral and bool(named & case.damaged))
    if lost and not explained:
        problems.append(("silent drop", f"{lost} of {case.sent} good rows lost (status {out.status or 'none'}, exit "
                                        f"{out.exit_code}) and `tierwise quarantine` names neither the file nor them"))
    elif case.must_flag and not seen.file_reasons and not seen.records:
        problems.append(("silent drop", f"the damage went unreported: status {out.status or 'none'}, exit "
                                        f"{out.exit_code}, nothing in `tierwise quarantine`"))
    if out.status in ("partial", "unreadable") and not seen.file_reasons:
        problems.append(("silent drop", f"the file ended {out.status} but `tierwise quarantine` does not list it"))
    problems += [("unclear message", why) for why in _unclear(out, seen)]
    return Verdict(case, tuple(problems), lost if explained else 0, max(0, out.stored - case.total))


def _unclear(out: Outcome, seen: Listed) -> list[str]:
    why = [f"file-level reason {r!r}" for r in seen.file_reasons
           if not r.strip() or r.strip() in ("partial", "unreadable") or LEAKS.search(r)]
    why += [f"record {n}: reason {r!r}" for n, r in seen.records if not r.strip() or LEAKS.search(r)]
    why += [f"record {n} says nowhere (record number {n})" for n, _ in seen.records if n < 1]
    why += [f"ingest printed {m[0]!r} in {line.strip()[:200]!r}" for line in out.output.splitlines()
            if (m := LEAKS.search(line)) and "Traceback" not in m[0]]
    return why


def totals(verdicts: Sequence[Verdict]) -> dict[str, int]:
    """Cases, cases with each kind of problem, good rows lost although something said why, rows the files never held."""
    out = {"cases": len(verdicts)} | {plural: sum(v.has(kind) for v in verdicts) for kind, plural in KINDS.items()}
    return out | {"good rows lost with a reason": sum(v.lost_explained for v in verdicts),
                  "rows stored beyond the file's": sum(v.beyond for v in verdicts)}


def report(verdicts: Sequence[Verdict], limit: int = 40, show_losses: bool = False) -> str:
    """The totals and the failing cases, one line per problem (and the cases that lost good rows with a reason)."""
    lines = [", ".join(f"{k}: {v}" for k, v in totals(verdicts).items())]
    failing = [v for v in verdicts if v.problems]
    for v in failing[:limit]:
        lines += [f"  {v.case.name}", *(f"      {kind}: {what}" for kind, what in v.problems)]
    if len(failing) > limit:
        lines.append(f"  … and {len(failing) - limit} more failing cases")
    lossy = [v for v in verdicts if (v.lost_explained or v.beyond) and not v.problems]
    if lossy and show_losses:
        lines.append("good rows lost, with the file or a record listed in `tierwise quarantine` (or rows beyond the file's):")
        lines += [f"  {v.case.name}: {v.lost_explained} of {v.case.sent} lost, {v.beyond} beyond" for v in lossy[:limit]]
    return "\n".join(lines)
