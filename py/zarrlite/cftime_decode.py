"""CF time coordinates: numbers with `units: "<unit> since <date>"` and a `calendar`, decoded to dates.

Pure (numpy only): the viewer's sliders, readouts and ticks label time axes with these dates, as xarray
(and cftime, for calendars numpy's datetime64 cannot hold) decodes them.

    decode_times(np.array([0, 6]), "hours since 2001-01-01", "noleap")
    -> [CFDate(2001, 1, 1, 0, 0, 0, 0), CFDate(2001, 1, 1, 6, 0, 0, 0)]
    iso(dates[1]) -> "2001-01-01T06:00:00"

Calendars: standard/gregorian (Julian before 1582-10-15, Gregorian from then on), proleptic_gregorian,
julian, noleap/365_day, all_leap/366_day, 360_day. Units: days, hours, minutes, seconds, milliseconds,
microseconds (and their CF abbreviations); months and years are refused, as their length differs.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from .errors import ZarrliteError

US = {"microseconds": 1, "milliseconds": 1_000, "seconds": 1_000_000, "minutes": 60_000_000,
      "hours": 3_600_000_000, "days": 86_400_000_000}
UNIT_ALIASES = {"us": "microseconds", "microsecond": "microseconds", "msec": "milliseconds",
                "ms": "milliseconds", "millisecond": "milliseconds", "s": "seconds", "sec": "seconds",
                "secs": "seconds", "second": "seconds", "min": "minutes", "mins": "minutes",
                "minute": "minutes", "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours",
                "d": "days", "day": "days"}
CALENDARS = {"standard": "standard", "gregorian": "standard", "proleptic_gregorian": "proleptic_gregorian",
             "julian": "julian", "noleap": "365_day", "365_day": "365_day", "all_leap": "366_day",
             "366_day": "366_day", "360_day": "360_day"}
DAY_US = US["days"]
GREGORIAN_START = 2299161          # Julian day number of 1582-10-15, the first Gregorian day of `standard`
MONTH_DAYS = {"365_day": (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31),
              "366_day": (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)}
_UNITS = re.compile(r"^\s*(\w+)\s+since\s+(.+?)\s*$", re.IGNORECASE)
_DATE = re.compile(r"^(-?\d{1,4})-(\d{1,2})-(\d{1,2})(?:[T\s]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?)?"
                   r"\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?$", re.IGNORECASE)


class CFDate(NamedTuple):
    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    microsecond: int


def is_time_units(units) -> bool:
    """Whether `units` reads as CF time ("<unit> since <date>" with a unit this module decodes)."""
    if not isinstance(units, str):
        return False
    m = _UNITS.match(units)
    return bool(m) and _unit(m.group(1)) is not None and _DATE.match(m.group(2).strip()) is not None


def calendar_name(calendar) -> str:
    """The canonical name of a CF calendar (None or "" is `standard`); unknown ones raise."""
    name = CALENDARS.get(str(calendar or "standard").strip().lower())
    if name is None:
        raise ZarrliteError(f"CF time: unknown calendar {calendar!r} (one of {', '.join(sorted(CALENDARS))})")
    return name


def decode_times(values, units: str, calendar=None) -> list[CFDate | None]:
    """Dates of numeric CF time `values` (None where a value is not finite)."""
    cal = calendar_name(calendar)
    m = _UNITS.match(units) if isinstance(units, str) else None
    unit = _unit(m.group(1)) if m else None
    if unit is None:
        raise ZarrliteError(f"CF time: units {units!r} are not '<days|hours|minutes|seconds|...> since <date>'")
    ref, ref_us = _reference(m.group(2).strip(), cal)
    v = np.asarray(values)
    finite = np.isfinite(v) if v.dtype.kind == "f" else np.ones(v.shape, bool)
    if v.dtype.kind in "iu":
        offset = v.astype(np.int64) * US[unit]
    else:   # to whole microseconds, as cftime rounds
        offset = np.round(np.where(finite, v, 0).astype(np.float64) * US[unit]).astype(np.int64)
    total = ref_us + offset
    days, us = np.divmod(total, DAY_US)
    ymd = _from_days(ref + days, cal)
    out: list[CFDate | None] = []
    for k, ok in enumerate(finite.ravel()):
        if not ok:
            out.append(None)
            continue
        t = int(us.flat[k])
        h, t = divmod(t, 3_600_000_000)
        mi, t = divmod(t, 60_000_000)
        s, micro = divmod(t, 1_000_000)
        out.append(CFDate(int(ymd[0].flat[k]), int(ymd[1].flat[k]), int(ymd[2].flat[k]), h, mi, s, micro))
    return out


def iso(date: CFDate | None) -> str:
    """ISO 8601 text of a date, seconds always, microseconds when there are some; "NaT" for None."""
    if date is None:
        return "NaT"
    year = f"{date.year:04d}" if date.year >= 0 else f"-{-date.year:04d}"
    text = f"{year}-{date.month:02d}-{date.day:02d}T{date.hour:02d}:{date.minute:02d}:{date.second:02d}"
    return text + (f".{date.microsecond:06d}" if date.microsecond else "")


def _unit(name: str) -> str | None:
    n = name.lower()
    return n if n in US else UNIT_ALIASES.get(n)


def _reference(text: str, cal: str) -> tuple[int, int]:
    """(day number, microseconds into that day, in UTC) of a reference date in `cal`."""
    m = _DATE.match(text)
    if m is None:
        raise ZarrliteError(f"CF time: reference date {text!r} is not YYYY-MM-DD[ hh:mm[:ss[.f]]][ zone]")
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    h, mi, s = (int(m.group(i) or 0) for i in (4, 5, 6))
    frac = int((m.group(7) or "0")[:6].ljust(6, "0"))
    zone = (m.group(8) or "").upper()
    shift = 0
    if zone and zone not in ("Z", "UTC", "GMT"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        zh, zm = (int(digits[:-2] or 0), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
        shift = sign * (zh * 60 + zm) * 60_000_000
    if not (1 <= mo <= 12 and 1 <= d <= _month_length(y, mo, cal)):
        raise ZarrliteError(f"CF time: reference date {text!r} is not a day of the {cal} calendar")
    day = _to_days(y, mo, d, cal)
    t = ((h * 60 + mi) * 60 + s) * 1_000_000 + frac - shift
    extra, t = divmod(t, DAY_US)
    return day + extra, t


def _is_leap(y: int, cal: str) -> bool:
    julian = cal == "julian" or (cal == "standard" and y < 1583)
    return y % 4 == 0 if julian else (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0))


def _month_length(y: int, mo: int, cal: str) -> int:
    if cal == "360_day":
        return 30
    if cal in MONTH_DAYS:
        return MONTH_DAYS[cal][mo - 1]
    return (31, 29 if _is_leap(y, cal) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[mo - 1]


def _to_days(y: int, mo: int, d: int, cal: str) -> int:
    """A date's day number: days since 0000-01-01 for the model calendars, else the Julian day number."""
    if cal == "360_day":
        return y * 360 + (mo - 1) * 30 + d - 1
    if cal in MONTH_DAYS:
        return y * len_year(cal) + sum(MONTH_DAYS[cal][:mo - 1]) + d - 1
    a = (14 - mo) // 12
    yy, mm = y + 4800 - a, mo + 12 * a - 3
    base = d + (153 * mm + 2) // 5 + 365 * yy + yy // 4
    gregorian = base - yy // 100 + yy // 400 - 32045
    julian = base - 32083
    if cal == "proleptic_gregorian" or (cal == "standard" and gregorian >= GREGORIAN_START):
        return gregorian
    return julian


def len_year(cal: str) -> int:
    return sum(MONTH_DAYS[cal])


def _from_days(days: np.ndarray, cal: str):
    """(years, months, days) arrays of day numbers (the inverse of `_to_days`)."""
    days = np.asarray(days, np.int64)
    if cal == "360_day":
        y, r = np.divmod(days, 360)
        return y, r // 30 + 1, r % 30 + 1
    if cal in MONTH_DAYS:
        y, r = np.divmod(days, len_year(cal))
        starts = np.cumsum((0,) + MONTH_DAYS[cal])
        mo = np.searchsorted(starts, r, side="right")
        return y, mo, r - starts[mo - 1] + 1
    # Richards' algorithm from a Julian day number (Explanatory Supplement to the Astronomical Almanac)
    f = days + 1401
    gregorian = cal == "proleptic_gregorian" or cal == "standard"
    if gregorian:
        g = f + (((4 * days + 274277) // 146097) * 3) // 4 - 38
        f = np.where(days >= GREGORIAN_START, g, f) if cal == "standard" else g
    e = 4 * f + 3
    h = 5 * ((e % 1461) // 4) + 2
    d = (h % 153) // 5 + 1
    mo = ((h // 153 + 2) % 12) + 1
    y = e // 1461 - 4716 + (14 - mo) // 12
    return y, mo, d
