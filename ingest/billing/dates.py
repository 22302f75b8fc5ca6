"""Billing date-times: the forms exports write, the day/month order a file's own rows (or its format) decide, and why
a date that cannot be stored is quarantined."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ingest.billing.formats import BillingFormat

SRC_VIEW = "tw_billing_src"
FIELDS = ["ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"]
FIRST, LAST = "2000-01-01", "2101-01-01"  # charge and billing periods outside these are quarantined, never stored
ORDERS = ("mdy", "dmy", "none", "conflict")  # month first, day first, undecided, rows that disagree
SAMPLE_ROWS = 1000  # rows looked at for slash dates before the whole file is read for their order
# ISO 8601 as exports write it, fast: what DuckDB's own cast reads exactly (it also reads `4/1/25` as the year 4).
PLAIN_ISO = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z| UTC)?"
# ISO 8601 and near forms: one-digit month or day, seconds optional, fraction, Z, UTC or GMT, or an offset.
ISO = (r"^(\d{4}-\d{1,2}-\d{1,2})(?:[T ](\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?))?\s*"
       r"(Z|UTC|GMT|([+-])(\d{2}):?(\d{2})?)?$")
# m/d/y or d/m/y (a year of four or two digits), optionally with a 24- or 12-hour time.
SLASH = r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})((?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?)?)$"
YEAR_FIRST = r"^(\d{4})/(\d{1,2})/(\d{1,2})((?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)$"
# The value of a date that is present but cannot be read for sure: before FIRST, so its row is quarantined (never
# stored); the reason is then worked out from the text.
UNREAD = "TIMESTAMP '0001-01-01'"
_HMS = "coalesce(nullif(replace(p.hms, ',', '.'), ''), '00:00')"

MACROS: tuple[str, ...] = (
    "CREATE OR REPLACE TEMP MACRO tw_date_order() AS 'none'",  # set per file by use()
    "CREATE OR REPLACE TEMP MACRO tw_iso_parts(p) AS CASE "
    f"WHEN p.sign = '' THEN TRY_CAST(p.d || ' ' || {_HMS} AS TIMESTAMP) "
    "WHEN p.oh::INTEGER > 14 OR coalesce(nullif(p.om, ''), '0')::INTEGER > 59 THEN NULL "  # no zone has `+25:00`
    f"ELSE TRY_CAST(p.d || ' ' || {_HMS} AS TIMESTAMP) - (CASE p.sign WHEN '-' THEN -1 ELSE 1 END) "
    "* to_minutes(p.oh::INTEGER * 60 + coalesce(nullif(p.om, ''), '0')::INTEGER) END",
    f"CREATE OR REPLACE TEMP MACRO tw_iso(t) AS tw_iso_parts(regexp_extract(t, '{ISO}', "
    "['d', 'hms', 'zone', 'sign', 'oh', 'om']))",
    f"CREATE OR REPLACE TEMP MACRO tw_slash_parts(t) AS regexp_extract(t, '{SLASH}', ['a', 'b', 'y', 'time'])",
    "CREATE OR REPLACE TEMP MACRO tw_clock(d, time) AS CASE WHEN regexp_matches(time, '[AaPp][Mm]$') "
    "THEN try_strptime(d || ' ' || upper(regexp_replace(trim(time), '\\s+', '', 'g')), "
    "['%Y-%m-%d %I:%M:%S%p', '%Y-%m-%d %I:%M%p']) "
    "ELSE TRY_CAST(d || ' ' || coalesce(nullif(trim(time), ''), '00:00') AS TIMESTAMP) END",
    # whether a slash date puts the month first: a part above 12 is the day, equal parts read alike, else the file's
    # order (NULL when it has none: the date is ambiguous)
    "CREATE OR REPLACE TEMP MACRO tw_month_first(a, b) AS CASE WHEN a > 12 THEN false WHEN b > 12 OR a = b THEN true "
    "WHEN tw_date_order() = 'mdy' THEN true WHEN tw_date_order() = 'dmy' THEN false END",
    "CREATE OR REPLACE TEMP MACRO tw_slash_date(p, month_first) AS CASE WHEN month_first IS NOT NULL THEN "
    "tw_clock(printf('%04d-%02d-%02d', CASE WHEN length(p.y) = 2 THEN 2000 + p.y::INTEGER ELSE p.y::INTEGER END, "
    "CASE WHEN month_first THEN p.a ELSE p.b END::INTEGER, CASE WHEN month_first THEN p.b ELSE p.a END::INTEGER), "
    "p.time) END",
    "CREATE OR REPLACE TEMP MACRO tw_ymd(p) AS tw_clock(p.y || '-' || p.m || '-' || p.d, p.time)",
    f"CREATE OR REPLACE TEMP MACRO tw_ts_text(t) AS CASE WHEN t IS NULL OR t = '' THEN NULL "
    f"WHEN regexp_full_match(t, '{PLAIN_ISO}') THEN coalesce(TRY_CAST(t AS TIMESTAMP), {UNREAD}) "
    f"WHEN regexp_matches(t, '{ISO}') THEN coalesce(tw_iso(t), {UNREAD}) "
    f"WHEN regexp_matches(t, '{SLASH}') THEN coalesce(tw_slash_date(tw_slash_parts(t), "
    f"tw_month_first(tw_slash_parts(t).a::INTEGER, tw_slash_parts(t).b::INTEGER)), {UNREAD}) "
    f"WHEN regexp_matches(t, '{YEAR_FIRST}') THEN coalesce(tw_ymd(regexp_extract(t, '{YEAR_FIRST}', "
    f"['y', 'm', 'd', 'time'])), {UNREAD}) ELSE {UNREAD} END",
    # UTC TIMESTAMP from a typed column (as typed; typeof folds per query) or from text in any form above
    "CREATE OR REPLACE TEMP MACRO tw_ts(x) AS CASE "
    "WHEN typeof(x) IN ('TIMESTAMP', 'DATE', 'TIMESTAMP_NS', 'TIMESTAMP_MS', 'TIMESTAMP_S') THEN TRY_CAST(x AS TIMESTAMP) "
    "WHEN typeof(x) = 'TIMESTAMP WITH TIME ZONE' THEN timezone('UTC', TRY_CAST(x AS TIMESTAMPTZ)) "
    "ELSE tw_ts_text(trim(x::VARCHAR)) END",
    f"CREATE OR REPLACE TEMP MACRO tw_period_ok(t) AS t IS NULL OR t BETWEEN TIMESTAMP '{FIRST}' AND TIMESTAMP '{LAST}'",
    # why a date is not stored, from its text `t` and the file's day/month order `o`: missing, outside the years bills
    # cover, ambiguous, or unreadable
    "CREATE OR REPLACE TEMP MACRO tw_date_reason(t, o) AS CASE WHEN t IS NULL OR trim(t) = '' "
    "THEN 'missing: every row needs one; write it like 2025-11-01T00:00:00Z' "
    f"WHEN tw_ts(t) <> {UNREAD} THEN '''' || t || ''' is read as ' || strftime(tw_ts(t), '%Y-%m-%d') || ', outside "
    "the years 2000 to 2100 that bills cover (a year cut to two digits, or an empty date written as zero?); write the "
    "full date as ISO 8601, e.g. 2025-04-01' "
    f"WHEN regexp_matches(trim(t), '{SLASH}') AND tw_slash_parts(trim(t)).a::INTEGER BETWEEN 1 AND 12 "
    "AND tw_slash_parts(trim(t)).b::INTEGER BETWEEN 1 AND 12 "
    "THEN '''' || t || ''' is ambiguous: month first it is ' || coalesce(strftime(tw_slash_date(tw_slash_parts(trim(t)), "
    "true), '%Y-%m-%d'), 'no date') || ', day first ' || coalesce(strftime(tw_slash_date(tw_slash_parts(trim(t)), "
    "false), '%Y-%m-%d'), 'no date') || '; ' || CASE o WHEN 'conflict' THEN 'the file''s rows disagree on the order (some "
    "have a day above 12 first, others second)' ELSE 'no row of the file has a day above 12 to tell the order, and its "
    "format''s documentation does not fix it' END || '; write dates as ISO 8601 (YYYY-MM-DD)' "
    "ELSE '''' || t || ''' is not a date-time tierwise reads; write it as ISO 8601, e.g. 2025-11-01T00:00:00Z' END",
)


@dataclass(frozen=True)
class Order:
    """The order of day and month in a file's slash dates: mdy, dmy, none (undecided) or conflict (its rows disagree);
    `whole` when every row was read to find it (else the first SAMPLE_ROWS held no slash date)."""

    value: str
    whole: bool


class OrderChanged(Exception):
    """The whole file decides the order of day and month that its first rows left open: map the file again."""

    def __init__(self, order: Order) -> None:
        super().__init__(f"day/month order {order.value}")
        self.order = order


def ident(name: str) -> str:
    """A quoted SQL identifier for a column name taken from a file header."""
    return '"' + name.replace('"', '""') + '"'


def use(con: duckdb.DuckDBPyConnection, order: Order) -> Order:
    """Make `order` the one tw_ts reads for the file mapped next (a macro body cannot take a parameter, so the value is
    one of ORDERS, written in)."""
    if order.value not in ORDERS:
        raise ValueError(f"unknown day/month order {order.value!r}")
    con.execute(f"CREATE OR REPLACE TEMP MACRO tw_date_order() AS '{order.value}'")
    return order


def _text_columns(con: duckdb.DuckDBPyConnection, fmt: BillingFormat) -> list[str]:
    typed = {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {SRC_VIEW}").fetchall()}
    return [c for c in dict.fromkeys(fmt.dates.values()) if typed.get(c) == "VARCHAR"]


def _evidence(con: duckdb.DuckDBPyConnection, cols: list[str], limit: int | None) -> tuple[bool, bool, bool]:
    """(a slash date, one whose day is surely first, one whose month is surely first) in the date columns."""
    rows = f"(SELECT * FROM {SRC_VIEW} LIMIT {limit})" if limit else SRC_VIEW
    got = con.execute(
        "SELECT coalesce(bool_or(true), false), coalesce(bool_or(a > 12 AND b BETWEEN 1 AND 12), false), "
        "coalesce(bool_or(b > 12 AND a BETWEEN 1 AND 12), false) FROM (SELECT TRY_CAST(p.a AS INTEGER) AS a, "
        "TRY_CAST(p.b AS INTEGER) AS b FROM (SELECT tw_slash_parts(trim(v)) AS p FROM (SELECT unnest(["
        f"{', '.join(ident(c) for c in cols)}]) AS v FROM {rows}) WHERE regexp_matches(trim(v), $slash)))",
        {"slash": SLASH}).fetchall()[0]
    return bool(got[0]), bool(got[1]), bool(got[2])


def settle(con: duckdb.DuckDBPyConnection, fmt: BillingFormat | None, whole: bool = False) -> Order:
    """Find and use the day/month order of the file in SRC_VIEW: its rows decide (a part above 12 is a day), else its
    format's documentation. The whole file is read only when its first rows hold slash dates (or `whole`)."""
    cols = _text_columns(con, fmt) if fmt is not None else []
    if fmt is None or not cols:
        return use(con, Order("none", True))
    seen, day_first, month_first = _evidence(con, cols, None if whole else SAMPLE_ROWS)
    if seen and not whole:
        _, day_first, month_first = _evidence(con, cols, None)
    value = ("conflict" if day_first and month_first else "dmy" if day_first else "mdy" if month_first
             else fmt.day_order or "none")
    return use(con, Order(value, whole or seen))


def _quarantined(con: duckdb.DuckDBPyConnection, rejects: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {rejects} WHERE list_contains($f, __reject)",
                           {"f": FIELDS}).fetchall()[0][0])


def recheck(con: duckdb.DuckDBPyConnection, fmt: BillingFormat | None, order: Order, rejects: str) -> None:
    """Raise OrderChanged when dates were quarantined under an order found without reading the whole file, and the
    whole file decides another."""
    if order.whole or fmt is None or not _quarantined(con, rejects):
        return
    found = settle(con, fmt, whole=True)
    use(con, order)
    if found.value != order.value:
        raise OrderChanged(found)


def explain(con: duckdb.DuckDBPyConnection, fmt: BillingFormat | None, order: Order, rejects: str) -> None:
    """Quote, in each quarantined date's reason, the text the file holds and say why it is not stored."""
    pairs = [(f, n) for f, n in fmt.dates.items() if f in FIELDS] if fmt is not None else []
    if not pairs or not _quarantined(con, rejects):
        return
    text = "CASE r.__reject " + " ".join(f"WHEN '{f}' THEN s.{ident(n)}::VARCHAR" for f, n in pairs) + " END"
    con.execute(f"UPDATE {rejects} r SET __reason = tw_date_reason({text}, $order) FROM {SRC_VIEW} s "
                "WHERE s.__row = r.x_SourceRow AND list_contains($f, r.__reject)", {"order": order.value, "f": FIELDS})
