"""Checks the data-tier components share: time windows and instance or node classes.

RDS and ElastiCache take backup and maintenance windows as text (``03:00-03:30`` daily,
``sun:04:00-sun:04:30`` weekly, UTC) and refuse a malformed, too short or overlapping window
only when the API is called. Checking them here turns that into a configuration error that
names the key. Nothing in this module declares a resource.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MINUTES_PER_DAY = 24 * 60
_MINUTES_PER_WEEK = 7 * _MINUTES_PER_DAY
_CLOCK = r"([01]\d|2[0-3]):([0-5]\d)"
_DAILY = re.compile(rf"{_CLOCK}-{_CLOCK}")
_WEEKLY = re.compile(rf"({'|'.join(_DAYS)}):{_CLOCK}-({'|'.join(_DAYS)}):{_CLOCK}")
_CLASS = re.compile(r"(?P<prefix>[a-z]+)\.(?P<family>[a-z0-9-]+)\.(?P<size>[a-z0-9]+)")
_BURSTABLE_SIZES = ("micro", "small", "medium", "large", "xlarge", "2xlarge")
_FIXED_SIZES = re.compile(r"large|xlarge|(2|4|8|12|16|24|32|48)xlarge")


@dataclass(frozen=True)
class Window:
    """A recurring window as [start, start + length) in minutes, repeating every ``period``."""

    start: int
    length: int
    period: int

    def occurrences(self) -> list[tuple[int, int]]:
        """The window's intervals over one week, in minutes from Monday 00:00 UTC."""
        return [
            (offset + self.start, offset + self.start + self.length)
            for offset in range(0, _MINUTES_PER_WEEK, self.period)
        ]

    def overlaps(self, other: Window) -> bool:
        # Shift by a week either way so that windows wrapping past Sunday midnight are caught.
        shifts = (-_MINUTES_PER_WEEK, 0, _MINUTES_PER_WEEK)
        return any(
            start < other_end + shift and other_start + shift < end
            for start, end in self.occurrences()
            for other_start, other_end in other.occurrences()
            for shift in shifts
        )


def daily_window(text: str, *, minimum_minutes: int) -> Window:
    """Parse ``hh:mm-hh:mm`` (UTC); raise ``ValueError`` saying what AWS accepts."""
    match = _DAILY.fullmatch(text)
    if match is None:
        raise ValueError('expected a daily UTC window "hh:mm-hh:mm" such as "03:00-03:30"')
    start = int(match[1]) * 60 + int(match[2])
    end = int(match[3]) * 60 + int(match[4])
    return _checked(
        Window(start, (end - start) % _MINUTES_PER_DAY, _MINUTES_PER_DAY), minimum_minutes
    )


def weekly_window(text: str, *, minimum_minutes: int) -> Window:
    """Parse ``ddd:hh:mm-ddd:hh:mm`` (UTC); raise ``ValueError`` saying what AWS accepts."""
    match = _WEEKLY.fullmatch(text)
    if match is None:
        raise ValueError(
            'expected a weekly UTC window "ddd:hh:mm-ddd:hh:mm" such as "sun:04:00-sun:04:30" '
            f"(days: {', '.join(_DAYS)})"
        )
    start = _DAYS.index(match[1]) * _MINUTES_PER_DAY + int(match[2]) * 60 + int(match[3])
    end = _DAYS.index(match[4]) * _MINUTES_PER_DAY + int(match[5]) * 60 + int(match[6])
    return _checked(
        Window(start, (end - start) % _MINUTES_PER_WEEK, _MINUTES_PER_WEEK), minimum_minutes
    )


def _checked(window: Window, minimum_minutes: int) -> Window:
    if window.length < minimum_minutes:
        raise ValueError(
            f"the window lasts {window.length} minutes; AWS requires at least {minimum_minutes}"
        )
    if window.length > _MINUTES_PER_DAY:
        raise ValueError(f"the window lasts {window.length} minutes; AWS allows at most 24 hours")
    return window


def instance_class_family(
    value: str, *, prefix: str, families: Collection[str], burstable: Collection[str]
) -> str:
    """Check an instance or node class such as ``db.t4g.micro``; return its family (``t4g``).

    Burstable families come in micro to 2xlarge; the others start at large. A family outside
    ``families`` is refused with the list, so a typo or an unsupported generation is caught
    before RDS or ElastiCache would refuse it.
    """
    match = _CLASS.fullmatch(value)
    example = f"{prefix}.{sorted(burstable)[-1]}.micro"
    if match is None or match["prefix"] != prefix:
        raise ValueError(f'expected "{prefix}.<family>.<size>" such as "{example}"')
    family, size = match["family"], match["size"]
    if family not in families:
        raise ValueError(
            f"unknown or unsupported {prefix} class family {family!r}; supported families: "
            + ", ".join(sorted(families))
        )
    sizes_ok = size in _BURSTABLE_SIZES if family in burstable else _FIXED_SIZES.fullmatch(size)
    if not sizes_ok:
        allowed = ", ".join(_BURSTABLE_SIZES) if family in burstable else "large, xlarge, Nxlarge"
        raise ValueError(f"the {family} family has no size {size!r}; sizes: {allowed}")
    return family
