"""What the home page shows each person."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Apprenticeship, Certification, Cohort, Party, User
from app.services.access import roles_of, visible_apprenticeships_filter
from app.services.pages import todos as actions
from app.services.progress.loader import load_progress_many
from app.services.progress.rules import Progress
from app.services.school.apprenticeships import list_visible


@dataclass(frozen=True)
class Row:
    apprenticeship: Apprenticeship
    progress: Progress
    todo: actions.Todo


@dataclass
class HomeOverview:
    as_apprentice: list[Row] = field(default_factory=list)
    as_tutor: list[Row] = field(default_factory=list)
    as_supervisor_count: int = 0
    # Supervised apprenticeships with something waiting (the supervisor's own to-dos, overdue
    # reviews, situations the tutor has left waiting), by apprentice.
    as_supervisor: list[tuple[Apprenticeship, actions.Todo]] = field(default_factory=list)
    admin_counts: dict[str, int] | None = None


def own_apprenticeship_only(session: Session, user: User) -> int | None:
    """The apprenticeship id when ``user`` is the apprentice of exactly one apprenticeship and
    holds no other role: their home is then their portfolio (one cheap query)."""
    if user.is_admin:
        return None
    rows = (
        session.execute(
            select(Apprenticeship.id, Apprenticeship.apprentice_id)
            .where(visible_apprenticeships_filter(user))
            .limit(2)
        )
        .tuples()
        .all()
    )
    if len(rows) == 1 and rows[0][1] == user.id:
        return rows[0][0]
    return None


def overview(session: Session, settings: Settings, user: User, today: date) -> HomeOverview:
    result = HomeOverview()
    if user.is_admin:
        result.admin_counts = {
            "apprenticeships": session.scalar(select(func.count(Apprenticeship.id))) or 0,
            "users": session.scalar(select(func.count(User.id))) or 0,
            "cohorts": session.scalar(select(func.count(Cohort.id))) or 0,
            "certifications": session.scalar(select(func.count(Certification.id))) or 0,
        }
        return result
    visible = list(list_visible(session, user))
    supervised = [a for a in visible if Party.SUPERVISOR in roles_of(user, a)]
    result.as_supervisor_count = len(supervised)
    personal = [a for a in visible if roles_of(user, a) & {Party.APPRENTICE, Party.TUTOR}]
    progress = load_progress_many(session, settings, personal, today, detail=False)
    todos = actions.todos(
        session,
        user,
        list({a.id: a for a in (*personal, *supervised)}.values()),
        today,
        settings.review_overdue_days,
    )
    result.as_supervisor = [
        (appr, todos[appr.id])
        for appr in sorted(supervised, key=lambda a: a.apprentice.full_name)
        if todos[appr.id].concerns_the_supervisor
    ]
    for appr in sorted(personal, key=lambda a: a.apprentice.full_name):
        row = Row(appr, progress[appr.id], todos[appr.id])
        if Party.APPRENTICE in row.todo.roles:
            result.as_apprentice.append(row)
        if Party.TUTOR in row.todo.roles:
            result.as_tutor.append(row)
    return result
