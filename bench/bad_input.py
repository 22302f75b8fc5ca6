"""The full bad-input corpus through `tierwise ingest`: totals of crashes, hangs, silent drops and unclear messages.

Run from the repository root:

    .venv/bin/python bench/bad_input.py                      # 808 cases, seed 17: the totals in docs
    .venv/bin/python bench/bad_input.py --cases 100 --seed 3 # a quick look at other damage
    .venv/bin/python bench/bad_input.py --only 5,112 --dump /tmp/cases   # rerun two cases, keep their files

Each case is one file mixing one damaged part (a truncation, a flipped bit, a wrong JSON type, a bad id, a huge value,
deep nesting, bad UTF-8, a BOM, CRLF, broken or double compression, a damaged protobuf frame or CSV row) with known-good
records from the real fixtures in tests/fixtures/; tests/bad_input_corpus.py builds them from the seed, the same case
for the same index whatever --cases says, so tests/test_bad_input_corpus.py runs a prefix of this set.
tests/bad_input_judge.py says what counts as a crash, a hang, a silent drop and an unclear message. This is a count,
not a timing: it is never a timed test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bad_input_corpus import MUTATIONS, build  # noqa: E402
from bad_input_judge import judge, report, totals  # noqa: E402
from bad_input_run import TIME_LIMIT_S, run_cases  # noqa: E402

SEED, CASES = 17, 808


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--seed", type=int, default=SEED, help="Seed of the corpus.")
    ap.add_argument("--cases", type=int, default=CASES, help=f"Cases to run (every {len(MUTATIONS)} cover each "
                                                             "mutation once).")
    ap.add_argument("--only", default="", help="Comma-separated case numbers to run instead.")
    ap.add_argument("--workers", type=int, default=2, help="Processes running cases side by side.")
    ap.add_argument("--limit", type=float, default=TIME_LIMIT_S, help="Seconds after which a case counts as a hang.")
    ap.add_argument("--dump", type=Path, default=None, help="Write the files of the failing cases into this folder.")
    ap.add_argument("--show", type=int, default=60, help="Failing cases to list.")
    args = ap.parse_args()
    indexes = [int(i) for i in args.only.split(",") if i.strip()] or list(range(args.cases))
    cases = [build(i, args.seed) for i in indexes]
    start = time.perf_counter()
    verdicts = [judge(c, o) for c, o in zip(cases, run_cases(cases, args.workers, args.limit), strict=True)]
    print(f"bad-input corpus, seed {args.seed}: {len(cases)} cases in {time.perf_counter() - start:.0f} s")
    print(report(verdicts, args.show, show_losses=True))
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        for v in verdicts:
            if v.problems:
                (args.dump / f"{v.case.index}-{v.case.filename}").write_bytes(v.case.data)
    sys.exit(1 if any(n for k, n in totals(verdicts).items() if k in ("crashes", "hangs", "silent drops",
                                                                      "unclear messages")) else 0)


if __name__ == "__main__":
    main()
