"""The bad-input corpus in CI: damaged files built by mutation from the real fixtures, each mixing one damaged part with
known-good records, through the real `tierwise ingest` and `tierwise quarantine`; plus the defects it found, one by one.

Each case is judged (tests/bad_input_judge.py) on:
- crash: a traceback, an exception other than SystemExit, or an exit code other than 0 and 1 (from either command);
- hang: no answer within the time limit (the case's process is killed);
- silent drop: fewer good rows stored than sent while `tierwise quarantine` lists neither the file nor one of those
  records (sent: the undamaged records, only those wholly before damage that cuts off the rest, and the undamaged spans
  or points of the damaged record, which a line naming that record accounts for); detectable damage with nothing listed
  at all; a file that ended partial or unreadable without a line of its own;
- unclear message: a file-level or record-level reason that is empty, names no record, or leaks internals (Python
  exception names, orjson's `char 0`, protobuf's and DuckDB's texts, CSV sniffer advice).
The full set (808 cases) is bench/bad_input.py; this runs its first CASES, every mutation at least four times.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from bad_input_corpus import MUTATIONS, Case, build, cases
from bad_input_damage import with_attribute
from bad_input_judge import Outcome, judge, listed, report, totals
from bad_input_run import run_cases
from bad_input_sources import proto_requests
from click.testing import CliRunner
from ingest_helpers import OTLP
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from app.cli import cli

SEED = 17  # bench/bad_input.py's: these cases are the first of the set whose totals are in the docs
CASES = 4 * len(MUTATIONS)
TRACES = (OTLP / "otlp-file-exporter-spec" / "traces.jsonl").read_bytes()


def test_the_corpus_keeps_every_good_record_and_says_why_of_the_rest() -> None:
    chosen = cases(SEED, CASES)
    verdicts = [judge(c, o) for c, o in zip(chosen, run_cases(chosen), strict=True)]
    counts = totals(verdicts)
    assert [counts[k] for k in ("crashes", "hangs", "silent drops", "unclear messages")] == [0, 0, 0, 0], \
        report(verdicts)


def test_the_corpus_is_seeded_and_covers_every_mutation() -> None:
    assert cases(SEED, 60) == cases(SEED, 60) and build(59, SEED) == cases(SEED, 60)[59]
    assert build(5, SEED) != build(5, SEED + 1)
    names = {c.name.split(":")[0].split(" ")[1] for c in cases(SEED, len(MUTATIONS))}
    assert names == {f"{family}/{mutation}" for family, mutation in MUTATIONS}


CASE = Case(0, "#0 test", "case.jsonl", b"", sent=4, good=frozenset({1, 2}), must_flag=True, total=5)


def test_the_judge_finds_each_kind_of_problem() -> None:
    """The judge is what the corpus's zeros rest on: each rule must fire on an outcome that breaks it."""
    src = "/x/case.jsonl"
    fine = Outcome(0, src, 0, "", "complete  /x/case.jsonl: 4 accepted", 0, f"{src}:3: record json: invalid JSON at "
                   "character 1 of the line: unexpected character", 4, "complete")
    assert judge(CASE, fine).problems == ()
    broken = {
        "crash": [dataclasses.replace(fine, exception="KeyError: 'x'"), dataclasses.replace(fine, exit_code=2),
                  dataclasses.replace(fine, output="Traceback (most recent call last):"),
                  dataclasses.replace(fine, died="ended")],
        "hang": [Outcome(0, src, hung=True)],
        "silent drop": [dataclasses.replace(fine, stored=3),  # a record line names only the damaged record
                        dataclasses.replace(fine, quarantine="nothing quarantined"),
                        dataclasses.replace(fine, status="partial")],
        "unclear message": [dataclasses.replace(fine, quarantine=f"{src}:3: record json: invalid JSON: x (char 0)"),
                            dataclasses.replace(fine, quarantine=f"{src}: partial file, 2 rows kept: partial"),
                            dataclasses.replace(fine, quarantine=f"{src}:0: row columns: the row is short"),
                            dataclasses.replace(fine, output="…: Conversion Error: could not convert")],
    }
    for kind, outcomes in broken.items():
        for out in outcomes:
            assert judge(CASE, out).has(kind), (kind, out)
    spans_of_3 = dataclasses.replace(CASE, collateral=1, damaged=frozenset({3}))  # record 3 held one good span too
    assert judge(spans_of_3, dataclasses.replace(fine, stored=3)).problems == ()  # record 3 is listed: it accounts
    assert judge(spans_of_3, dataclasses.replace(fine, stored=2)).has("silent drop")  # for 1 row, not 2
    lost = dataclasses.replace(fine, stored=0, quarantine=f"{src}: partial file, 0 rows kept: the gzip data is cut")
    assert judge(CASE, lost).problems == () and judge(CASE, lost).lost_explained == 4
    assert listed(src, lost.quarantine).file_reasons == ("the gzip data is cut",)


def _ingest(tmp_path: Path, name: str, data: bytes) -> tuple[str, str]:
    """`tierwise ingest` of one file into a fresh store: its output, and what `tierwise quarantine` lists."""
    src, db = tmp_path / name, tmp_path / f"{name}.duckdb"
    src.write_bytes(data)
    res = CliRunner().invoke(cli, ["ingest", "--quiet", "--db", str(db), str(src)], catch_exceptions=False)
    shown = CliRunner().invoke(cli, ["quarantine", "--db", str(db)], catch_exceptions=False)
    assert res.exit_code in (0, 1) and shown.exit_code == 0, res.output
    return res.output, shown.output


def _bad_span_id() -> bytes:
    """A framed traces request of two spans (the spec's first line), the second with a 9-byte span id."""
    msg = ExportTraceServiceRequest.FromString(
        next(r.data for r in proto_requests() if r.origin == "otlp-file-exporter-spec/traces.jsonl"))
    msg.resource_spans[0].scope_spans[0].spans[1].span_id = b"\x01" * 9
    payload: bytes = msg.SerializeToString()
    return len(payload).to_bytes(4, "big") + payload


def _kvlist(levels: int) -> bytes:
    return b'{"kvlistValue":{"values":[{"key":"k","value":' * levels + b'{"stringValue":"x"}' + b"}]}}" * levels


FOUND = [  # (what the corpus found, file, words the ingest output must hold)
    ("a value nested ~1,000 JSON levels crashed writing the rejection's excerpt (RecursionError)",
     with_attribute(TRACES.splitlines()[0], _kvlist(250)) + b"\n" + TRACES, "9 accepted, 1 rejected"),
    ("a UTF-8 BOM at the start of a later line (files joined with cat) was refused with orjson's `char 0`",
     TRACES + b"\xef\xbb\xbf" + TRACES, "16 accepted, 0 rejected"),
    ("a damaged first line made the file a JSON document or protobuf, and every good line after it was lost",
     b'{"resourceSpans":[{"scopeSpans":[{\n' + TRACES, "8 accepted, 1 rejected"),
    ("orjson's message said `line 1 column 1 (char 0)`", TRACES + b"]\n",
     "invalid JSON at character 1 of the line: unexpected character"),
    ("UTF-16 without a byte-order mark read as protobuf or as lines of bad JSON",
     TRACES.decode().encode("utf-16-le"), "file is UTF-16 text without a byte-order mark"),
    ("a protobuf span with an id of the wrong length cost its whole request, not just itself (JSON: the span)",
     _bad_span_id(), "1 accepted, 1 rejected"),
    ("a protobuf record that does not parse named protobuf's internal type names",
     b"\x00\x00\x00\x04\xff\xff\xff\xff", "it parses as none of them: its bytes are not valid protobuf"),
]


@pytest.mark.parametrize(("found", "data", "words"), FOUND, ids=[f[0][:40] for f in FOUND])
def test_what_the_corpus_found(tmp_path: Path, found: str, data: bytes, words: str) -> None:
    output, shown = _ingest(tmp_path, "found.jsonl", data)
    assert words in output, (found, output)
    assert not any(leak in output + shown for leak in ("char 0", "Error parsing message", "Error:")), output + shown
