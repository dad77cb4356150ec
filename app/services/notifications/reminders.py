"""Reminder digests (``livret remind``, run from cron): each person gets one email listing what
awaits them (the same pending actions as their home page, :func:`app.services.pages.todos.todos`),
at most once a day.

* One digest per person and day: a ``reminder_logs`` row keyed by (user, date) with a unique
  constraint is written with the digest, so a second run the same day (even a concurrent one)
  sends nothing more. It also records when each person was last reminded, for the dashboard.
* Escalation: when a reminded person's review is more than ``LIVRET_REMINDER_ESCALATION_DAYS``
  (14) days past its deadline (its end plus ``LIVRET_REVIEW_OVERDUE_DAYS``), the academic
  supervisor of that apprenticeship receives a copy: a separate message in the supervisor's
  own language (a Cc would force one language on both), unless the supervisor is the person
  reminded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Apprenticeship, Party, ReminderLog, SemesterReview, User
from app.models.base import utcnow
from app.services.notifications import outbox as mail
from app.services.pages.todos import Todo, todos
from app.services.reviews import rules as review_rules
from app.services.school.apprenticeships import detail_options
from app.web.urls import journal_url, review_url


@dataclass
class RemindReport:
    reminded: int = 0
    already_reminded: int = 0
    copies: int = 0


def last_reminded(session: Session, user_ids: Iterable[int]) -> dict[int, datetime]:
    """When each of these people was last sent a digest (one query)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(ReminderLog.user_id, func.max(ReminderLog.sent_at))
        .where(ReminderLog.user_id.in_(ids))
        .group_by(ReminderLog.user_id)
    ).tuples()
    return {user_id: sent_at for user_id, sent_at in rows if sent_at is not None}


def _escalated_reviews(session: Session, settings: Settings, today: date) -> set[tuple[int, int]]:
    """(apprenticeship id, semester) of open reviews long past their deadline."""
    cutoff = review_rules.overdue_ended_before(
        today, settings.review_overdue_days, extra_days=settings.reminder_escalation_days
    )
    rows = session.execute(
        select(SemesterReview.apprenticeship_id, SemesterReview.semester).where(
            SemesterReview.locked_at.is_(None), SemesterReview.ends_on < cutoff
        )
    ).tuples()
    return set(rows)


def _group(user: User, appr: Apprenticeship, todo: Todo) -> dict[str, Any]:
    return {
        "own": Party.APPRENTICE in todo.roles and appr.apprentice_id == user.id,
        "apprentice_name": appr.apprentice.full_name,
        "journal_path": journal_url(appr.id),
        "drafts": todo.drafts,
        "sent_back": todo.sent_back,
        "to_acknowledge": todo.to_acknowledge,
        "reviews": [
            {
                "semester": r.semester,
                "assess": r.assess,
                "sign": r.sign,
                "overdue": r.overdue,
                "path": review_url(appr.id, r.semester),
            }
            for r in todo.reviews
            if r.assess or r.sign
        ],
    }


def _claim_today(
    session: Session, user: User, today: date, now: datetime, items: int
) -> ReminderLog | None:
    """Write today's log row for ``user``; None if another run already did."""
    entry = ReminderLog(user_id=user.id, reminded_on=today, sent_at=now, items=items)
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        return None
    return entry


def send_reminders(
    session: Session, settings: Settings, today: date, *, now: datetime | None = None
) -> RemindReport:
    """Queue today's digests (and supervisor copies). Sending is the outbox's job."""
    now = now or utcnow()
    report = RemindReport()
    done_today = set(
        session.scalars(select(ReminderLog.user_id).where(ReminderLog.reminded_on == today))
    )
    apprenticeships = (
        session.scalars(
            select(Apprenticeship).options(*detail_options()).order_by(Apprenticeship.id)
        )
        .unique()
        .all()
    )
    people: dict[int, User] = {}
    involved: dict[int, list[Apprenticeship]] = defaultdict(list)
    for appr in apprenticeships:
        for person in {p.id: p for p in (appr.apprentice, appr.tutor, appr.supervisor)}.values():
            people[person.id] = person
            involved[person.id].append(appr)
    escalated = _escalated_reviews(session, settings, today)
    for user_id in sorted(involved):
        user = people[user_id]
        if user_id in done_today:
            report.already_reminded += 1
            continue
        if mail.valid_address(user) is None:
            continue
        by_id = {a.id: a for a in involved[user_id]}
        pending = [
            t
            for t in todos(
                session, user, involved[user_id], today, settings.review_overdue_days
            ).values()
            if t.count
        ]
        if not pending:
            continue
        total = sum(t.count for t in pending)
        entry = _claim_today(session, user, today, now, total)
        if entry is None:
            report.already_reminded += 1
            continue
        mail.enqueue(
            session,
            user,
            "reminder_digest",
            {
                "total": total,
                "groups": [_group(user, by_id[t.apprenticeship_id], t) for t in pending],
            },
            settings=settings,
        )
        report.reminded += 1
        copies = _copy_supervisors(session, settings, user, by_id, pending, escalated)
        entry.escalated = copies > 0
        report.copies += copies
    session.flush()
    return report


def _copy_supervisors(
    session: Session,
    settings: Settings,
    user: User,
    by_id: dict[int, Apprenticeship],
    pending: list[Todo],
    escalated: set[tuple[int, int]],
) -> int:
    per_supervisor: dict[int, list[dict[str, Any]]] = defaultdict(list)
    supervisors: dict[int, User] = {}
    for todo in pending:
        appr = by_id[todo.apprenticeship_id]
        if appr.supervisor_id == user.id:
            continue
        for review in todo.reviews:
            if (review.assess or review.sign) and (appr.id, review.semester) in escalated:
                supervisors[appr.supervisor_id] = appr.supervisor
                item = {
                    "semester": review.semester,
                    "apprentice_name": appr.apprentice.full_name,
                    "path": review_url(appr.id, review.semester),
                }
                if item not in per_supervisor[appr.supervisor_id]:
                    per_supervisor[appr.supervisor_id].append(item)
    copies = 0
    for supervisor_id, reviews in per_supervisor.items():
        message = mail.enqueue(
            session,
            supervisors[supervisor_id],
            "reminder_copy",
            {
                "person_name": user.full_name,
                "days": settings.reminder_escalation_days,
                "reviews": reviews,
            },
            settings=settings,
        )
        copies += message is not None
    return copies
