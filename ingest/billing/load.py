"""The billing writer: one file → FOCUS rows in the `costs` ledger, quarantine and source totals, in one transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import duckdb

from ingest.billing import charges, csv_rows, dates, egress, ledger, ratecard, rejects
from ingest.billing.config import CostSettings, cost_settings
from ingest.billing.detect import Detected, gzip_damage
from ingest.billing.formats import FORMATS
from ingest.billing.source import (
    SRC_VIEW,
    BillingFileError,
    column_type,
    ident,
    install_macros,
    open_raw,
    project_src,
    tags_from_columns,
)
from ingest.otlp.rows import Rejection
from ingest.remap.costs import remap_costs
from ingest.sinks.loader import FileResult, batch_key, sha256_file
from store.map_rules import Rule
from store.settings import Settings

# Service → FOCUS ServiceCategory lookups, each exposed as a one-row relation holding a map (`lookup_map`): a mapping reads
# `(SELECT lookup_map FROM tw_aws_category)[code]`, which keeps the plan order-preserving (no join), so DuckDB can use its
# parallel batch insert.
LOOKUPS = {"tw_aws_category": ("aws_category_mapping.csv", "product_code"),
           "tw_gcp_category": ("gcp_category_mapping.csv", "ConsumedService"),
           "tw_azure_category": ("azure_category_mapping.csv", "ConsumedService")}
HELPER_COLUMNS = ("__xfer_text", "__source_billed", "__billed_text", "__tags_text", "__excerpt", "__reject", "__tagvals",
                  "x_TransferDirection", "x_Workload", "x_Tier")


def _lookups(con: duckdb.DuckDBPyConnection) -> None:
    for table, (name, key) in LOOKUPS.items():
        path = str(resources.files("ingest.billing").joinpath("mappings", name))
        con.register(table, con.sql(
            f"SELECT map(list(k), list(v)) AS lookup_map FROM (SELECT {ident(key)} AS k, min(ServiceCategory) AS v "
            f"FROM read_csv($p, all_varchar = true) WHERE {ident(key)} IS NOT NULL GROUP BY 1)", params={"p": path}))


def _link_sql(cs: CostSettings, settings: Settings) -> tuple[str, str, dict[str, object]]:
    """Expressions for x_Workload and x_Tier: mapped value, else tag keys in order, else (cloud) region rules.

    They read `v.__tagvals`, the values of every workload and tier key taken from Tags in one JSON parse.
    """
    keys = [*cs.workload_tags, *cs.tier_tags]
    params: dict[str, object] = {"tagkeys": [f'$."{k}"' for k in keys] or ["$.__none"]}
    first = [f"nullif(v.__tagvals[{i + 1}], '')" for i in range(len(keys))]
    nw = len(cs.workload_tags)
    wl = ["v.x_Workload", *first[:nw]]
    tier = ["v.x_Tier", *([f"lower(coalesce({', '.join(first[nw:])}))"] if first[nw:] else [])]
    rules = settings.tier_rules
    params["regions"] = [r for r, _ in rules.region_tiers] or [""]
    params["region_tiers"] = [t for _, t in rules.region_tiers] or [""]
    params["default_tier"] = rules.default_cloud_tier
    tier.append("CASE WHEN v.x_CostComponent = 'cloud' THEN coalesce(nullif(list_extract($region_tiers::VARCHAR[], "
                "list_position($regions::VARCHAR[], v.RegionId)), ''), $default_tier) END")
    return f"coalesce({', '.join(wl)})", f"coalesce({', '.join(tier)})", params


def _prepare(con: duckdb.DuckDBPyConnection, path: Path, det: Detected, lenient: bool) -> tuple[str, dates.Order]:
    """Create SRC_VIEW for the file and return its mapping SELECT with the day/month order its dates are read in;
    raises BillingFileError on a bad header."""
    if det.fmt == "rate-card":
        con.register(SRC_VIEW, ratecard.compile_file(path))
        return f"SELECT * FROM {SRC_VIEW}", dates.settle(con, None)
    fmt = FORMATS[det.fmt]
    present = open_raw(con, path, det, fmt.reads if det.container == "jsonl" else (), keep_maps=det.fmt == "aws-cur2",
                       lenient=lenient)
    have = {c.lower() for c in present}
    missing = [c for c in fmt.required if c.lower() not in have]
    if missing:
        raise BillingFileError(f"{det.fmt} file lacks required column {missing[0]!r}")
    extra, params = "", dict[str, object]()
    if fmt.tag_prefix:
        extra, params = tags_from_columns(present, fmt.tag_prefix, fmt.tag_strip)
    elif det.fmt == "aws-cur2":
        extra = _cur2_maps(con)
    project_src(con, present, fmt.reads, extra, params)
    return fmt.sql, dates.settle(con, fmt)


def _cur2_maps(con: duckdb.DuckDBPyConnection) -> str:
    """`__product` as a string map (Parquet MAP as is, CSV JSON text parsed) and `__tags_json` without `user_`."""
    kind = column_type(con, "product")
    product = ("NULL::MAP(VARCHAR, VARCHAR)" if kind is None else "product" if kind.startswith("MAP")
               else "CASE WHEN json_valid(product) THEN from_json(product, '\"MAP(VARCHAR, VARCHAR)\"') END")
    tag_kind = column_type(con, "resource_tags")
    tags = ("NULL::VARCHAR" if tag_kind is None else "to_json(resource_tags)::VARCHAR" if tag_kind.startswith("MAP")
            else "resource_tags")
    text = tags if tag_kind is not None and not tag_kind.startswith("MAP") else "NULL::VARCHAR"
    return (f"{product} AS __product, {text} AS __tags_text, "
            f"tw_json(replace(replace({tags}, '\"user_', '\"'), '\"user:', '\"')) AS __tags_json")


def _record(con: duckdb.DuckDBPyConnection, r: FileResult, size: int) -> None:
    con.execute(
        "INSERT INTO ingest_files VALUES ($h, $src, 'costs', $fmt, $size, $st, $msg, $acc, $rej, $skip, now(), "
        "CASE WHEN $st = 'complete' THEN now() END) "
        "ON CONFLICT (content_sha256) DO UPDATE SET source = excluded.source, format = excluded.format, "
        "status = excluded.status, message = excluded.message, rows_accepted = excluded.rows_accepted, "
        "rows_rejected = excluded.rows_rejected, rows_skipped = excluded.rows_skipped, "
        "completed_at = excluded.completed_at",
        {"h": r.content_sha256, "src": r.source, "fmt": r.fmt or None, "size": size, "st": r.status,
         "msg": r.message or None, "acc": r.accepted, "rej": r.rejected, "skip": r.skipped},
    )


@dataclass(frozen=True)
class _Job:
    """One file's mapped rows: the mapping with its reject reason, the loader's computed columns and their params."""

    view: str
    computed: str
    params: dict[str, object]
    source: dict[str, object]   # x_SourceFile, x_SourceFormat, batch_key
    order: dates.Order          # the order of day and month the mapping reads slash dates in
    rules: tuple[Rule, ...] = ()  # [[cost_map]]: set the rows' x_Map* columns as `tierwise map apply` would


def _rows_sql(job: _Job, exclude: Sequence[str], extra: str, where: str) -> str:
    return (f"SELECT v.* EXCLUDE ({', '.join(exclude)}), {job.computed}{extra} FROM (SELECT w.*, "
            f"json_extract_string(w.Tags, $tagkeys::VARCHAR[]) AS __tagvals FROM {job.view} w WHERE {where}) v")


def _write_accepted(con: duckdb.DuckDBPyConnection, job: _Job, narrow: bool) -> None:
    """The accepted rows: narrow plus a per-file row when the file's first rows agree on every per-file column, else
    wide. A narrow write stops with ledger.VARIES at the first row that disagrees (the caller then writes wide)."""
    lay = ledger.layout(con)
    produced = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {job.view}").fetchall()]
    checked = lay.checked(produced)
    ref = ledger.reference(con, lay, checked, f"SELECT * FROM {job.view} w WHERE w.__reject IS NULL") if narrow else None
    if ref is None:
        extra = ", " + ", ".join(f"${c} AS {c}" for c in job.source)
        con.execute(f"INSERT INTO {ledger.WIDE} BY NAME {_rows_sql(job, HELPER_COLUMNS, extra, 'w.__reject IS NULL')}",
                    job.params | job.source)
        return
    file_key = ledger.add_file(con, lay, ref, job.source)
    same, same_params = ledger.check_sql(lay, ref, "w")
    where = f"CASE WHEN w.__reject IS NULL AND NOT ({same}) THEN error($varies) ELSE w.__reject IS NULL END"
    con.execute(f"INSERT INTO {ledger.NARROW} BY NAME "
                f"{_rows_sql(job, [*HELPER_COLUMNS, *checked], f', $file AS {ledger.FILE_KEY}', where)}",
                job.params | same_params | {"file": file_key, "varies": ledger.VARIES})


@dataclass(frozen=True)
class _Written:
    """What one file's transaction did."""

    accepted: int
    rejected: int
    skipped: int        # every row, when the file holds exactly the charges of one ingested before
    same_as: str = ""   # that file


def _place(con: duckdb.DuckDBPyConnection, key: str) -> tuple[object, object] | None:
    """The file's provider and billing period when its ledger rows have one of each, else None."""
    got = con.execute("SELECT DISTINCT ProviderName, BillingPeriodStart FROM costs WHERE batch_key = $k LIMIT 2",
                      {"k": key}).fetchall()
    return (got[0][0], got[0][1]) if len(got) == 1 else None


def _write(con: duckdb.DuckDBPyConnection, path: Path, det: Detected, sha: str, job: _Job, narrow: bool) -> _Written:
    """One transaction: the accepted rows less the charges already held, quarantine, source totals and the batch row."""
    src, fmt, key = (str(job.source[c]) for c in ("x_SourceFile", "x_SourceFormat", "batch_key"))
    con.execute("BEGIN TRANSACTION")
    try:
        # One full mapping pass writes the accepted rows; the source is read again (narrowly) only when some
        # rows may have been rejected, and source totals come from the ledger rows plus the rejected ones.
        _write_accepted(con, job, narrow)
        got = con.execute("SELECT count(*), max(x_SourceRow) FROM costs WHERE batch_key = $k", {"k": key}).fetchall()
        written, last_row = int(got[0][0]), got[0][1]
        broken = csv_rows.broken_count(con) > 0
        rejects.collect(con, job.view, rejects.may_exist(path, det, written, last_row), broken,
                        _place(con, key) if broken else None)
        dates.recheck(con, FORMATS.get(det.fmt), job.order, rejects.REJECTS)
        dates.explain(con, FORMATS.get(det.fmt), job.order, rejects.REJECTS)
        fp = charges.fingerprint(con, key, rejects.REJECTS)
        same_as = charges.same_charges(con, sha, fmt, det.container, fp) or ""
        skipped = fp[1] if same_as else 0
        if same_as:  # the charges are in the ledger and quarantine already: keep neither a second time
            charges.remove(con, key)
            rejects.clear(con)
            written = 0
        rejected = rejects.record(con, sha, src)
        if job.rules and written:
            remap_costs(con, job.rules, key)
        con.execute(
            f"INSERT INTO billing_source_totals SELECT $sha, $src, $fmt, coalesce(ProviderName, '(unknown)'), "
            f"BillingPeriodStart, count(*), coalesce(sum(billed), 0), $key FROM ("
            f"SELECT ProviderName, BillingPeriodStart, BilledCost AS billed FROM costs WHERE batch_key = $key "
            f"UNION ALL SELECT ProviderName, BillingPeriodStart, __source_billed FROM {rejects.REJECTS}) GROUP BY ALL",
            {"sha": sha, "src": src, "fmt": fmt, "key": key})
        con.execute("INSERT INTO ingest_batches VALUES ($sha, 0, $key, $src, $acc, $rej, $skip, now()) "
                    "ON CONFLICT DO NOTHING",
                    {"sha": sha, "key": key, "src": src, "acc": written, "rej": rejected, "skip": skipped})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        rejects.drop(con)
    return _Written(written, rejected, skipped, same_as)


def _load(con: duckdb.DuckDBPyConnection, path: Path, settings: Settings, det: Detected, sha: str, fmt_label: str,
          lenient: bool) -> _Written:
    """Map and write the file: narrow when its per-file columns agree, else wide."""
    mapping, order = _prepare(con, path, det, lenient)
    xfer, params = egress.case_sql("v.__xfer_text")
    wl, tier, link_params = _link_sql(cost_settings(settings), settings)
    job = _Job(f"(SELECT m.*, {rejects.REJECT_SQL} AS __reject FROM ({mapping}) m)",
               f"coalesce(v.x_TransferDirection, {xfer}) AS x_TransferDirection, {wl} AS x_Workload, {tier} AS x_Tier",
               params | link_params, {"x_SourceFile": str(path), "x_SourceFormat": fmt_label,
                                      "batch_key": batch_key(sha, 0)}, order, settings.cost_rules)
    try:
        return _write_either(con, path, det, sha, job)
    except dates.OrderChanged as e:  # later rows decide the day/month order the first ones left open
        return _write_either(con, path, det, sha, replace(job, order=dates.use(con, e.order)))


def _write_either(con: duckdb.DuckDBPyConnection, path: Path, det: Detected, sha: str, job: _Job) -> _Written:
    try:
        return _write(con, path, det, sha, job, narrow=True)
    except duckdb.Error as e:
        if ledger.VARIES not in str(e):
            raise
        return _write(con, path, det, sha, job, narrow=False)


def _plain(e: Exception) -> str:
    """An exception as one line a person can act on: DuckDB's first line without its error class or its advice."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return re.sub(r"^[A-Za-z ]+ Error: ", "", text)


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _summary(w: _Written, first: Sequence[int]) -> str:
    """The result message: what was kept out of the ledger, where, and what to do about it."""
    if w.same_as:
        return f"nothing added: it holds exactly the charges of {w.same_as}, ingested before"
    if not w.rejected:
        return ""
    rows = ", ".join(str(r) for r in first[:5]) + (", …" if w.rejected > 5 else "")
    return (f"{_rows(w.rejected)} quarantined (row {rows}; `tierwise quarantine` says why), the other {w.accepted} "
            f"are in the ledger; fix those rows and ingest them as a file of their own")


def ingest_billing(con: duckdb.DuckDBPyConnection, path: Path, settings: Settings, det: Detected) -> FileResult:
    """Load one billing file; the same content or charges twice add nothing, broken rows go to quarantine."""
    source, sha, size = str(path), sha256_file(path), path.stat().st_size
    fmt_label = f"{det.fmt}-{det.version}" if det.version else det.fmt
    prior = con.execute("SELECT status FROM ingest_files WHERE content_sha256 = $h", {"h": sha}).fetchall()
    if prior and prior[0][0] == "complete":
        return FileResult(source, sha, "already-ingested", fmt_label, ("costs",),
                          message="same content was ingested before")

    def refused(why: str) -> FileResult:
        res = FileResult(source, sha, "unreadable", fmt_label, ("costs",), message=f"{path}: {why}")
        _record(con, res, size)
        return res

    if problem := det.problem or gzip_damage(path):
        return refused(problem)
    install_macros(con)
    _lookups(con)
    try:
        try:
            written = _load(con, path, settings, det, sha, fmt_label, lenient=False)
        except (duckdb.Error, OSError, ValueError) as e:
            if isinstance(e, BillingFileError) or det.container not in ("csv", "csv.gz"):
                raise
            written = _load(con, path, settings, det, sha, fmt_label, lenient=True)  # keep the rows that split
    except BillingFileError as e:
        return refused(str(e))
    except (duckdb.Error, OSError, ValueError) as e:
        return refused(f"cannot be read ({_plain(e)}); download or export the file again")
    finally:
        csv_rows.drop(con)
    quarantined = con.execute("SELECT record_no, field, reason FROM quarantine WHERE content_sha256 = $h "
                              "ORDER BY record_no LIMIT 20", {"h": sha}).fetchall()
    rejections = tuple(Rejection(int(r[0]), "row", str(r[1]), str(r[2])) for r in quarantined)
    res = FileResult(source, sha, "complete", fmt_label, ("costs",), written.accepted, written.rejected,
                     written.skipped, 1, 0, _summary(written, [r.record_no for r in rejections]), rejections)
    _record(con, res, size)
    return res
