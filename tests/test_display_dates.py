"""Dashboard tables show day buckets as dates and month buckets as YYYY-MM, leaving real timestamps alone."""

from __future__ import annotations

import datetime as dt

import polars as pl

from app.components import calendar_dates


def test_day_and_month_buckets_read_as_calendar_dates() -> None:
    frame = pl.DataFrame({
        "bucket_start": [dt.datetime(2026, 10, 3), dt.datetime(2026, 10, 4)],
        "month": [dt.datetime(2026, 10, 1), dt.datetime(2026, 11, 1)],
        "month_start": [dt.date(2026, 10, 1), None],
        "first_seen": [dt.datetime(2026, 10, 3, 7, 15), dt.datetime(2026, 10, 3)],
        "cost_usd": [1.0, 2.0]})
    shown = calendar_dates(frame)
    assert shown.schema["bucket_start"] == pl.Date and shown["bucket_start"].cast(pl.String).to_list() == [
        "2026-10-03", "2026-10-04"]
    assert shown["month"].to_list() == ["2026-10", "2026-11"] and shown["month_start"].to_list() == ["2026-10", None]
    assert shown.schema["first_seen"] == pl.Datetime("us") and shown["cost_usd"].to_list() == [1.0, 2.0]
    assert "00:00:00" not in shown.drop("first_seen").write_csv()
