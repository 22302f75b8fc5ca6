"""queries.units: the exact text of every unit, of missing values, and of whole frames."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import polars as pl
import pytest

from queries.units import UNITS, format_frame, format_value


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (1_234_567, "count", "1,234,567"),
    (0, "count", "0"),
    (-1_234, "count", "-1,234"),
    (1_234_567.0, "count", "1,234,567"),
    (41.6, "count", "42"),
    (4.16, "count", "4.2"),
    (4.0, "count", "4"),
    (-4.16, "count", "-4.2"),
    (9.96, "count", "10"),
    (-0.04, "count", "0"),
    (10**21, "count", "1,000,000,000,000,000,000,000"),
    (1e20, "count", "100,000,000,000,000,000,000"),
    (np.int64(7), "count", "7"),
    (1_500_000, "tokens", "1,500,000"),
    (2.34, "tokens", "2.3"),
    (12.34, "pct", "12.3 %"),
    (0, "pct", "0.0 %"),
    (-5.06, "pct", "-5.1 %"),
    (-0.01, "pct", "0.0 %"),
    (123_456.7, "pct", "123,456.7 %"),
    (850, "ms", "850 ms"),
    (850.4, "ms", "850 ms"),
    (3.21, "ms", "3.2 ms"),
    (0, "ms", "0.0 ms"),
    (9.96, "ms", "10 ms"),
    (-850, "ms", "-850 ms"),
    (999.6, "ms", "1.00 s"),
    (2_500, "ms", "2.50 s"),
    (-2_500, "ms", "-2.50 s"),
    (59_994, "ms", "59.99 s"),
    (65_000, "ms", "1 min 5 s"),
    (-65_400, "ms", "-1 min 5 s"),
    (7_260_000, "ms", "2 h 1 min"),
    (3.6e12, "ms", "1,000,000 h 0 min"),
    (1_234.56, "money", "1,234.56 USD"),
    (-1_234.56, "money", "-1,234.56 USD"),
    (0, "money", "0.00 USD"),
    (-0.001, "money", "0.00 USD"),
    (Decimal("12.345"), "money", "12.35 USD"),
    (Decimal("-12.345"), "money", "-12.35 USD"),
    (1e15, "money", "1,000,000,000,000,000.00 USD"),
    (1_234.567, "gb", "1,234.57 GB"),
    (0, "gb", "0.00 GB"),
    (-2.5, "gb", "-2.50 GB"),
    (12.54, "hours", "12.5 h"),
    (12_345.67, "hours", "12,345.7 h"),
    (-0.5, "hours", "-0.5 h"),
    (1.25, "ratio", "1.25×"),
    (0, "ratio", "0.00×"),
    (-0.5, "ratio", "-0.50×"),
    (np.float32(2.5), "ratio", "2.50×"),
])
def test_each_unit_reads_exactly(value: object, unit: str, expected: str) -> None:
    assert format_value(value, unit, "USD") == expected


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("missing", [None, math.nan, float("nan"), np.float64("nan"), Decimal("NaN")])
def test_missing_values_read_as_an_en_dash(unit: str, missing: object) -> None:
    assert format_value(missing, unit, "EUR") == "–"


@pytest.mark.parametrize("unit", UNITS)
def test_infinities_are_marked_not_formatted(unit: str) -> None:
    assert (format_value(math.inf, unit), format_value(-math.inf, unit)) == ("∞", "-∞")


def test_money_shows_the_given_currency_or_none() -> None:
    assert format_value(1_234.5, "money", "EUR") == "1,234.50 EUR"
    assert format_value(1_234.5, "money") == "1,234.50"
    assert format_value(-1_234.5, "money", None) == "-1,234.50"
    assert format_value(1_234.5, "money", "") == "1,234.50"


def test_unknown_unit_and_non_numbers_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown unit 'furlongs'"):
        format_value(1, "furlongs")
    with pytest.raises(ValueError, match="unknown unit 'furlongs'"):
        format_value(None, "furlongs")
    with pytest.raises(ValueError, match="unknown unit 'usd'"):
        format_frame(pl.DataFrame({"a": [1]}), {"a": "usd"})
    with pytest.raises(TypeError, match="'ms' formats numbers"):
        format_value("850", "ms")
    with pytest.raises(TypeError):
        format_value(True, "count")


def test_format_frame_formats_units_and_stringifies_the_rest() -> None:
    frame = pl.DataFrame({
        "tier": ["edge", None, "device"],
        "cost": [1_234.5, -2.0, None],
        "currency": ["USD", "EUR", None],
        "p95_ms": [850.0, math.nan, 2_500.0],
        "requests": [1_234_567, None, 3],
        "share": [0.25, math.nan, None],
        "tags": [["a", "b"], None, []],
    })
    out = format_frame(frame, {"cost": "money", "p95_ms": "ms", "requests": "count", "absent": "pct"})
    assert out.columns == frame.columns
    assert all(dtype == pl.String for dtype in out.dtypes)
    assert out.to_dict(as_series=False) == {
        "tier": ["edge", "–", "device"],
        "cost": ["1,234.50 USD", "-2.00 EUR", "–"],
        "currency": ["USD", "EUR", "–"],
        "p95_ms": ["850 ms", "–", "2.50 s"],
        "requests": ["1,234,567", "–", "3"],
        "share": ["0.25", "–", "–"],
        "tags": ["['a', 'b']", "–", "[]"],
    }


def test_format_frame_money_without_a_currency_column() -> None:
    frame = pl.DataFrame({"cost": [1.0, None], "currency": ["USD", "USD"]})
    assert format_frame(frame, {"cost": "money"}, currency_col=None)["cost"].to_list() == ["1.00", "–"]
    assert format_frame(frame.drop("currency"), {"cost": "money"})["cost"].to_list() == ["1.00", "–"]
    other = frame.rename({"currency": "billing_currency"})
    assert format_frame(other, {"cost": "money"}, "billing_currency")["cost"].to_list() == ["1.00 USD", "–"]


def test_format_frame_of_decimals_and_empty_frames() -> None:
    frame = pl.DataFrame({"cost": [Decimal("10.005")]}, schema={"cost": pl.Decimal(12, 3)})
    assert format_frame(frame, {"cost": "money"})["cost"].to_list() == ["10.01"]
    empty = format_frame(pl.DataFrame(schema={"cost": pl.Float64, "tier": pl.String}), {"cost": "money"})
    assert empty.schema == pl.Schema({"cost": pl.String, "tier": pl.String}) and empty.height == 0
