"""Working-day arithmetic (PLT-4). Every "N working days" or "N working hours" deadline uses this.

Whether a date is a working day, in order of precedence:
1. the admin-edited table (``CalendarDay``): statutory holidays and adjusted workdays (调休);
2. the ``chinese-calendar`` package, for the years it covers;
3. otherwise Monday–Friday, and a ``MissingYearWarning`` for admins (once per year) — never an error.
A year counts as covered by the table as soon as it holds any row for that year.

Conventions: ``add_working_days(d, n)`` is the n-th working day after ``d`` (``d`` itself is not
counted; n = 0 returns ``d``; negative n counts backwards). ``working_days_between(a, b)`` counts the
working days stepped onto when walking from a to b — (a, b] forwards, [b, a) backwards, negated — so
the two always agree: ``working_days_between(d, add_working_days(d, n)) == n``.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from django.utils import timezone

from kestrel.workdays.models import CalendarDay, MissingYearWarning, WorkingHours

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class _Year:
    overrides: dict[date, bool]  # date → is a working day
    package_covers: bool


class WorkCalendar:
    """A snapshot of the calendar. Loads one year's table rows on first use (one query per year), so
    computing many deadlines in a batch costs a handful of queries. Build a new one to see edits."""

    def __init__(self, *, working_hours: WorkingHours | None = None) -> None:
        self._years: dict[int, _Year] = {}
        self._working_hours = working_hours

    # --- days --------------------------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        day = _as_date(day)
        year = self._year(day.year)
        if day in year.overrides:
            return year.overrides[day]
        if year.package_covers:
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        start = _as_date(start)
        step = ONE_DAY if n >= 0 else -ONE_DAY
        day, remaining = start, abs(n)
        while remaining:
            day += step
            if self.is_workday(day):
                remaining -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -sum(1 for day in _days(b, a - ONE_DAY) if self.is_workday(day))
        return sum(1 for day in _days(a + ONE_DAY, b) if self.is_workday(day))

    def is_covered(self, year: int) -> bool:
        """Whether real holiday data exists for ``year`` (package or table)."""
        data = self._year(year)
        return data.package_covers or bool(data.overrides)

    # --- hours -------------------------------------------------------------------------------

    @property
    def working_hours(self) -> WorkingHours:
        if self._working_hours is None:
            self._working_hours = WorkingHours.objects.first() or WorkingHours()
        return self._working_hours

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of one day as aware datetimes in Asia/Shanghai (empty on a day off)."""
        if not self.is_workday(day):
            return []
        hours = self.working_hours
        bounds = [(hours.start, hours.end)]
        if hours.break_start and hours.break_end:
            bounds = [(hours.start, hours.break_start), (hours.break_end, hours.end)]
        return [(_at(day, begin), _at(day, end)) for begin, end in bounds]

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment when ``duration`` of working time has passed after ``start``."""
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        current = _as_shanghai(start)
        remaining = duration
        day = current.date()
        while True:
            for begin, end in self.windows(day):
                if current >= end:
                    continue
                current = max(current, begin)
                available = end - current
                if remaining <= available:
                    return current + remaining
                remaining -= available
                current = end
            day += ONE_DAY
            if day.year > start.year + 50:  # a calendar with no working days at all
                raise ValueError("no working time found within 50 years")

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        a, b = _as_shanghai(a), _as_shanghai(b)
        if b < a:
            return -self.working_time_between(b, a)
        total = timedelta(0)
        for day in _days(a.date(), b.date()):
            for begin, end in self.windows(day):
                overlap = min(end, b) - max(begin, a)
                if overlap > timedelta(0):
                    total += overlap
        return total

    # --- loading -----------------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        data = self._years.get(year)
        if data is None:
            overrides = {
                row_date: kind == CalendarDay.Kind.WORKDAY
                for row_date, kind in CalendarDay.objects.filter(
                    date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)
                ).values_list("date", "kind")
            }
            data = _Year(overrides=overrides, package_covers=_package_covers(year))
            self._years[year] = data
            if not overrides and not data.package_covers:
                _warn_missing_year(year)
        return data


def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _warn_missing_year(year: int) -> None:
    _warning, created = MissingYearWarning.objects.get_or_create(year=year)
    if created:
        logger.warning("No holiday data for %s: Monday–Friday assumed until an admin adds the year.", year)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return _as_shanghai(value).date()
    return value


def _as_shanghai(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        raise ValueError("naive datetime; working-time arithmetic needs an aware datetime")
    return moment.astimezone(SHANGHAI)


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=SHANGHAI)


def missing_years_open() -> list[int]:
    """Years assumed Mon–Fri for want of data, not yet acknowledged by an admin (PLT-4 warning)."""
    return sorted(
        MissingYearWarning.objects.filter(acknowledged_at__isnull=True).values_list("year", flat=True)
    )


# Convenience functions over a fresh snapshot; for many deadlines at once, build one WorkCalendar.


def is_workday(day: date) -> bool:
    return WorkCalendar().is_workday(day)


def add_working_days(start: date, n: int) -> date:
    return WorkCalendar().add_working_days(start, n)


def working_days_between(a: date, b: date) -> int:
    return WorkCalendar().working_days_between(a, b)


def add_working_hours(start: datetime, hours: float) -> datetime:
    return WorkCalendar().add_working_time(start, timedelta(hours=hours))


def working_hours_between(a: datetime, b: datetime) -> float:
    return WorkCalendar().working_time_between(a, b) / timedelta(hours=1)
