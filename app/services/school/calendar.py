"""Date arithmetic for semesters."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (31 Aug + 6 -> 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def semester_dates(starts_on: date, semester: int) -> tuple[date, date]:
    """Semester ``semester`` (1-based) in six-month steps from the apprenticeship's start."""
    start = add_months(starts_on, 6 * (semester - 1))
    end = add_months(starts_on, 6 * semester) - timedelta(days=1)
    return start, end
