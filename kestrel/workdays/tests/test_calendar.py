"""PLT-4: the working-day calendar."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kestrel.core.errors import ValidationFailed
from kestrel.workdays.models import CalendarDay, MissingYearWarning, WorkingHours
from kestrel.workdays.selectors import (
    WorkCalendar,
    add_working_days,
    add_working_hours,
    is_workday,
    working_days_between,
    working_hours_between,
)
from kestrel.workdays.services import calendar_day_set, calendar_import_csv

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_plt4_national_day_2026_plus_three_working_days_is_saturday_october_10():
    # Oct 1–7 are holidays; Saturday Oct 10 is an adjusted working day.
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert not is_workday(date(2026, 10, 1))
    assert is_workday(date(2026, 10, 10))


def test_plt4_deadline_crossing_into_2027_falls_back_to_monday_to_friday_with_one_warning():
    # 2027 is not in chinese-calendar yet: Mon–Fri is assumed and admins are told, once.
    assert add_working_days(date(2026, 12, 30), 5) == date(2027, 1, 6)
    assert working_days_between(date(2026, 12, 30), date(2027, 1, 6)) == 5
    add_working_days(date(2027, 3, 1), 10)
    assert list(MissingYearWarning.objects.values_list("year", flat=True)) == [2027]


def test_plt4_table_overrides_package_and_covers_new_years():
    calendar_day_set(actor=None, day=date(2027, 1, 1), kind=CalendarDay.Kind.HOLIDAY, name="元旦")
    assert not is_workday(date(2027, 1, 1))
    # With a row for 2027 the year counts as covered: no warning.
    assert WorkCalendar().is_covered(2027)
    assert not MissingYearWarning.objects.filter(year=2027).exists()
    # Overriding a year the package covers: make Friday 2026-11-27 a company holiday.
    calendar_day_set(actor=None, day=date(2026, 11, 27), kind=CalendarDay.Kind.HOLIDAY, name="公司庆典")
    assert add_working_days(date(2026, 11, 26), 1) == date(2026, 11, 30)


def test_plt4_adding_a_year_clears_its_missing_year_warning():
    add_working_days(date(2027, 6, 1), 1)
    assert MissingYearWarning.objects.filter(year=2027).exists()
    calendar_import_csv(actor=None, content=b"date,kind,name\n2027-01-01,holiday,\xe5\x85\x83\xe6\x97\xa6\n")
    assert not MissingYearWarning.objects.filter(year=2027).exists()


def test_plt4_negative_and_zero_working_days():
    assert add_working_days(date(2026, 10, 10), -3) == date(2026, 9, 30)
    assert add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)
    assert working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3


days_2025_2027 = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=days_2025_2027, n=st.integers(min_value=-40, max_value=40))
def test_plt4_add_working_days_and_working_days_between_agree(start, n):
    calendar = WorkCalendar()
    end = calendar.add_working_days(start, n)
    assert calendar.working_days_between(start, end) == n
    if n:
        assert calendar.is_workday(end)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=days_2025_2027, b=days_2025_2027)
def test_plt4_working_days_between_is_additive_and_walks_both_ways(a, b):
    calendar = WorkCalendar()
    a, b = min(a, b), max(a, b)
    # Backwards from b to a one steps onto [a, b) instead of (a, b]: only the end points differ.
    ends = int(calendar.is_workday(b)) - int(calendar.is_workday(a))
    assert calendar.working_days_between(a, b) == -calendar.working_days_between(b, a) + ends
    middle = min(a, b) + (max(a, b) - min(a, b)) / 2
    assert calendar.working_days_between(a, b) == calendar.working_days_between(
        a, middle
    ) + calendar.working_days_between(middle, b)


def test_plt4_working_hours_default_nine_to_six():
    friday_five_pm = datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI)  # a Wednesday before National Day
    assert add_working_hours(friday_five_pm, 3) == datetime(2026, 10, 8, 11, 0, tzinfo=SHANGHAI)
    assert working_hours_between(friday_five_pm, datetime(2026, 10, 8, 11, 0, tzinfo=SHANGHAI)) == 3
    before_work = datetime(2026, 11, 24, 7, 30, tzinfo=SHANGHAI)
    assert add_working_hours(before_work, 1) == datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


def test_plt4_working_hours_are_configurable_with_a_break():
    WorkingHours.objects.create(start=time(8, 30), end=time(17, 30), break_start=time(12), break_end=time(13))
    calendar = WorkCalendar()
    start = datetime(2026, 11, 24, 11, 0, tzinfo=SHANGHAI)
    assert calendar.add_working_time(start, timedelta(hours=2)) == datetime(
        2026, 11, 24, 14, 0, tzinfo=SHANGHAI
    )
    assert calendar.working_time_between(start, datetime(2026, 11, 25, 9, 30, tzinfo=SHANGHAI)) == timedelta(
        hours=1 + 4.5 + 1
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(SHANGHAI)
    ),
    minutes=st.integers(min_value=0, max_value=60 * 60),
)
def test_plt4_add_working_time_and_working_time_between_agree(start, minutes):
    calendar = WorkCalendar()
    end = calendar.add_working_time(start, timedelta(minutes=minutes))
    assert calendar.working_time_between(start, end) == timedelta(minutes=minutes)


def test_plt4_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        add_working_hours(datetime(2026, 11, 24, 9, 0), 1)


# --- CSV import ----------------------------------------------------------------------------------


def test_plt4_csv_import_loads_rows_and_replaces_existing_dates():
    calendar_day_set(actor=None, day=date(2027, 2, 6), kind=CalendarDay.Kind.HOLIDAY, name="旧")
    content = "date,kind,name\n2027-02-06,workday,春节调休\n2027-02-10,holiday,春节\n".encode()
    result = calendar_import_csv(actor=None, content=content)
    assert (result.created, result.updated, result.years) == (1, 1, [2027])
    assert CalendarDay.objects.get(date=date(2027, 2, 6)).kind == CalendarDay.Kind.WORKDAY


def test_plt4_csv_import_accepts_gb18030_from_chinese_excel():
    content = "date,kind,name\r\n2027-10-01,holiday,国庆节\r\n".encode("gb18030")
    calendar_import_csv(actor=None, content=content)
    assert CalendarDay.objects.get(date=date(2027, 10, 1)).name == "国庆节"


def test_plt4_bad_csv_reports_every_bad_line_and_loads_nothing():
    content = (
        "date,kind,name\n"
        "2027-01-01,holiday,元旦\n"
        "2027-13-01,holiday,坏日期\n"
        "2027-02-01,vacation,未知类型\n"
        "2027-01-01,workday,重复\n"
        "2027-03-01,holiday\n"
    ).encode()
    with pytest.raises(ValidationFailed) as raised:
        calendar_import_csv(actor=None, content=content)
    lines = [row["line"] for row in raised.value.details["errors"]]
    assert lines == [3, 4, 5, 6]
    assert CalendarDay.objects.count() == 0


def test_plt4_csv_without_header_is_refused():
    with pytest.raises(ValidationFailed) as raised:
        calendar_import_csv(actor=None, content=b"2027-01-01,holiday,x\n")
    assert raised.value.code == "calendar_file_invalid"
    assert raised.value.details["errors"][0]["line"] == 1


def test_plt4_calendar_import_command_reports_line_numbers(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind,name\n2027-01-01,holiday,元旦\nnot-a-date,holiday,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 3"):
        call_command("calendar", "import", str(bad))
    assert CalendarDay.objects.count() == 0
    good = tmp_path / "good.csv"
    good.write_text("date,kind,name\n2027-01-01,holiday,元旦\n", encoding="utf-8")
    call_command("calendar", "import", str(good))
    assert CalendarDay.objects.count() == 1


def test_plt4_calendar_import_command_missing_file():
    with pytest.raises(CommandError, match="no such file"):
        call_command("calendar", "import", "/nonexistent/calendar.csv")
