"""How each unit's numbers read, one formatter per unit, for the CLI's tables and the dashboard's pages alike."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, localcontext

import polars as pl

MISSING = "–"  # en dash: what None, NaN and null read as, everywhere
UNITS: tuple[str, ...] = ("count", "pct", "ms", "money", "gb", "hours", "ratio", "tokens", "per_s")

Number = int | float | Decimal


def _number(value: object, unit: str) -> Number | None:
    """`value` as int, float or Decimal; None for None and NaN. Anything else is a caller's mistake (TypeError)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise TypeError(f"unit {unit!r} formats numbers, got {type(value).__name__} {value!r}")
    if isinstance(value, Decimal):
        return None if value.is_nan() else value
    if isinstance(value, numbers.Integral):  # int, and numpy's integers
        return int(value)
    if isinstance(value, numbers.Real):  # float, and numpy's floats
        number = float(value)
        return None if math.isnan(number) else number
    raise TypeError(f"unit {unit!r} formats real numbers, got {value!r}")


def _fixed(x: Number, decimals: int) -> str:
    """`x` with thousands separators and `decimals` decimals; a value that rounds to zero never shows a minus sign.
    Decimals (exact amounts from the store) round half up, as a bill does; floats round their binary value."""
    with localcontext() as context:
        context.rounding = ROUND_HALF_UP
        text = f"{x:,.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def _infinite(x: Number) -> bool:
    return x.is_infinite() if isinstance(x, Decimal) else isinstance(x, float) and math.isinf(x)


def _count(x: Number) -> str:
    """Whole counts as integers; a fractional one (sampling-adjusted) keeps one decimal only below 10."""
    if isinstance(x, int):
        return f"{x:,}"
    if abs(float(x)) < 9.95:
        text = _fixed(x, 1)
        return text[:-2] if text.endswith(".0") else text
    return _fixed(x, 0)


def _pct(x: Number) -> str:
    return f"{_fixed(x, 1)} %"


def _ms(x: Number) -> str:
    """Milliseconds below a second (one decimal below 10 ms), seconds with two decimals below a minute, then minutes
    and seconds, then hours and minutes: the unit grows with the value so that it stays short and readable."""
    size = abs(float(x))
    if round(size) < 1000:
        return f"{_fixed(x, 1 if size < 9.95 else 0)} ms"
    if round(size / 1000, 2) < 60:
        return f"{_fixed(float(x) / 1000, 2)} s"
    sign = "-" if x < 0 else ""
    minutes, seconds = divmod(round(size / 1000), 60)
    if minutes < 60:
        return f"{sign}{minutes} min {seconds} s"
    hours, minutes = divmod(round(size / 60_000), 60)
    return f"{sign}{hours:,} h {minutes} min"


def _gb(x: Number) -> str:
    return f"{_fixed(x, 2)} GB"


def _hours(x: Number) -> str:
    return f"{_fixed(x, 1)} h"


def _ratio(x: Number) -> str:
    return f"{_fixed(x, 2)}×"


def _per_s(x: Number) -> str:
    """A rate per second: two significant digits below 0.1/s (0.0026/s), two decimals below 10/s, one below 100/s,
    then whole numbers with separators."""
    size = abs(float(x))
    if 0 < size < 0.0995:
        return f"{_fixed(x, min(9, 1 - math.floor(math.log10(size))))}/s"
    return f"{_fixed(x, 2 if size < 9.995 else 1 if size < 99.95 else 0)}/s"


_FORMATTERS: dict[str, Callable[[Number], str]] = {
    "count": _count, "pct": _pct, "ms": _ms, "gb": _gb, "hours": _hours, "ratio": _ratio, "tokens": _count,
    "per_s": _per_s,
}


def _check(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r} (known: {', '.join(UNITS)})")


def format_value(value: object, unit: str, currency: str | None = None) -> str:
    """`value` as text in `unit` (one of UNITS); None and NaN read "–". Money needs its ISO currency code (`currency`);
    without one it shows the amount alone, never a guessed code. Infinities read "∞" and "-∞"."""
    _check(unit)
    number = _number(value, unit)
    if number is None:
        return MISSING
    if _infinite(number):
        return "-∞" if number < 0 else "∞"
    if unit == "money":
        amount = _fixed(number, 2)
        return f"{amount} {currency}" if currency else amount
    return _FORMATTERS[unit](number)


def _text(series: pl.Series) -> pl.Series:
    """A column without a unit as strings: nested values through str(), NaN and null as "–"."""
    if series.dtype.is_float():
        series = series.fill_nan(None)
    if series.dtype.is_nested() or series.dtype == pl.Object:
        values = [MISSING if v is None else str(v) for v in series.to_list()]
        return pl.Series(series.name, values, dtype=pl.String)
    return series.cast(pl.String).fill_null(MISSING)


def format_frame(frame: pl.DataFrame, units: Mapping[str, str], currency_col: str | None = "currency") -> pl.DataFrame:
    """`frame` as strings, same columns in the same order: each column named in `units` formatted in its unit (money
    in the currency of the same row's `currency_col`, when the frame has it), every other column as text. Columns of
    `units` the frame lacks are ignored, so one mapping can serve every query that shares those columns."""
    for known in units.values():
        _check(known)
    currencies: list[object] | None = None
    if currency_col is not None and currency_col in frame.columns:
        currencies = frame[currency_col].to_list()
    out = []
    for name in frame.columns:
        series = frame[name]
        unit = units.get(name)
        if unit is None:
            out.append(_text(series))
        elif unit == "money" and currencies is not None:
            values = [format_value(v, unit, c if isinstance(c, str) else None)
                      for v, c in zip(series.to_list(), currencies, strict=True)]
            out.append(pl.Series(name, values, dtype=pl.String))
        else:
            out.append(pl.Series(name, [format_value(v, unit) for v in series.to_list()], dtype=pl.String))
    return pl.DataFrame(out, schema=dict.fromkeys(frame.columns, pl.String))
