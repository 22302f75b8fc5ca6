"""Which queries one dashboard page reruns when a sidebar filter changes, and what each costs (server side only).

Usage: .venv/bin/python bench/page_queries.py --db STORE --page slow-paths --set f_tier=regional
The page runs once in Streamlit's AppTest (in-process, caches filled as a first visit fills them), then the filter
widget (its session key, e.g. f_tier, f_site, f_workload) is set and the page runs again; every registry query that
this second run executes is listed with its wall and CPU seconds (time.process_time: all threads). Cache hits run no
query and are not listed. bench/pages.py measures the same change in a real browser, drawing included.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--page", required=True, help="a page's url path, e.g. slow-paths, trace, finops")
    ap.add_argument("--set", required=True, metavar="KEY=VALUE", help="the filter widget's key and the value to pick")
    args = ap.parse_args()
    os.environ["TIERWISE_DB"] = str(args.db)
    from app.page_queries import rerun_after_filter

    key, value = args.set.split("=", 1)
    r = rerun_after_filter(args.page, key, value)
    print(f"{args.page}, {key} → {value}: rerun {r.wall_s:.2f} s wall, {r.cpu_s:.2f} CPU s; "
          f"load {os.getloadavg()[0]:.2f}")
    for name, wall, cpu, params in r.queries:
        shown = {k: v for k, v in params.items() if v is not None}
        print(f"  {wall:6.3f} s  {cpu:6.3f} CPU s  {name} {shown}")


if __name__ == "__main__":
    main()
