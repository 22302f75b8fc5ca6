"""Instants typed by people (Unix nanoseconds, a date, an ISO-8601 timestamp) as the store's Unix nanoseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

ACCEPTED = ("Unix nanoseconds (1795132800000000000), a date (2026-11-20 = UTC midnight) or an ISO-8601 timestamp "
            "(2026-11-20T10:00:00Z, 2026-11-20T10:00:00.5+02:00; no offset = UTC)")
MAX_OFFSET = timedelta(hours=14)  # the widest UTC offset in use (Kiribati, Line Islands)
_INT64 = (-(2**63), 2**63 - 1)  # what a BIGINT column of nanoseconds holds: 1677-09-21 to 2262-04-11
_NANOS = re.compile(r"[+-]?[0-9]+", re.ASCII)
_INSTANT = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[Tt ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]{1,9}))?)?"
    r"\s*(?P<offset>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?", re.ASCII)


def _offset(text: str, whole: str) -> timezone:
    """`Z`, `±HH`, `±HHMM` or `±HH:MM` as a timezone; beyond ±14:00 no place on Earth keeps its clocks."""
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if minutes >= 60:
        raise ValueError(f"{whole!r} has UTC offset {text}, whose minutes are not below 60; expected {ACCEPTED}")
    delta = timedelta(hours=hours, minutes=minutes)
    if delta > MAX_OFFSET:
        raise ValueError(f"{whole!r} has UTC offset {text}, outside -14:00 to +14:00; expected {ACCEPTED}")
    return timezone(-delta if text.startswith("-") else delta)


def _in_range(ns: int, text: str) -> int:
    if not _INT64[0] <= ns <= _INT64[1]:
        raise ValueError(f"{text!r} is outside 1677-09-21 to 2262-04-11, the span of 64-bit Unix nanoseconds; "
                         f"expected {ACCEPTED}")
    return ns


def parse_instant_ns(text: str) -> int:
    """Unix nanoseconds of `text`: an integer (taken as nanoseconds), a date (its UTC midnight) or an ISO-8601
    timestamp with `T` or a space, optional seconds with up to nine fractional digits and an optional UTC offset (none
    = UTC). Raises ValueError saying what is wrong and which forms are accepted."""
    s = text.strip()
    if _NANOS.fullmatch(s):
        return _in_range(int(s), text)
    m = _INSTANT.fullmatch(s)
    if m is None:
        raise ValueError(f"{text!r} is not a time; expected {ACCEPTED}")
    tz = UTC if m["offset"] is None else _offset(m["offset"], text)
    try:
        moment = datetime.fromisoformat(m["date"]).replace(hour=int(m["hour"] or 0), minute=int(m["minute"] or 0),
                                                           second=int(m["second"] or 0), tzinfo=tz)
    except ValueError as e:  # 2026-02-30, 25:00, 10:61
        raise ValueError(f"{text!r} is not a real date and time ({e}); expected {ACCEPTED}") from None
    seconds = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)
    fraction = int((m["fraction"] or "").ljust(9, "0"))
    return _in_range(seconds * 1_000_000_000 + fraction, text)
