"""What awaits each person: situations to acknowledge, drafts to submit, reviews to assess or
sign. Computed for all of a person's apprenticeships in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import (
    Apprenticeship,
    Party,
    PartyAssessment,
    RatingSource,
    SemesterReview,
    Signature,
    SituationStatus,
    User,
    WorkSituation,
)
from app.services.access import roles_of


@dataclass
class ReviewTodo:
    semester: int
    assess: bool  # my assessment is still empty
    sign: bool  # agreed content exists and my signature is missing
    overdue: bool


@dataclass
class Todo:
    apprenticeship_id: int
    roles: set[Party]
    drafts: int = 0
    sent_back: int = 0
    to_acknowledge: int = 0
    reviews: list[ReviewTodo] = field(default_factory=list)

    @property
    def count(self) -> int:
        return (
            self.drafts + self.to_acknowledge + sum(1 for r in self.reviews if r.assess or r.sign)
        )


def todos(
    session: Session,
    user: User,
    apprenticeships: list[Apprenticeship],
    today: date,
    overdue_days: int,
) -> dict[int, Todo]:
    """Pending actions of ``user`` on each of ``apprenticeships`` (already access-checked)."""
    result = {a.id: Todo(a.id, roles_of(user, a)) for a in apprenticeships}
    if not result:
        return result
    ids = list(result)
    situation_counts = session.execute(
        select(
            WorkSituation.apprenticeship_id,
            WorkSituation.status,
            func.count(WorkSituation.id),
            func.sum(case((func.length(WorkSituation.tutor_comment) > 0, 1), else_=0)),
        )
        .where(WorkSituation.apprenticeship_id.in_(ids))
        .where(WorkSituation.status.in_([SituationStatus.DRAFT, SituationStatus.SUBMITTED]))
        .group_by(WorkSituation.apprenticeship_id, WorkSituation.status)
    ).tuples()
    for appr_id, status, count, with_comment in situation_counts:
        todo = result[appr_id]
        if status == SituationStatus.DRAFT and Party.APPRENTICE in todo.roles:
            todo.drafts = count
            todo.sent_back = int(with_comment or 0)
        elif status == SituationStatus.SUBMITTED and Party.TUTOR in todo.roles:
            todo.to_acknowledge = count

    open_reviews = (
        session.execute(
            select(
                SemesterReview.id,
                SemesterReview.apprenticeship_id,
                SemesterReview.semester,
                SemesterReview.ends_on,
            )
            .where(
                SemesterReview.apprenticeship_id.in_(ids),
                SemesterReview.locked_at.is_(None),
                SemesterReview.starts_on <= today,
            )
            .order_by(SemesterReview.semester)
        )
        .tuples()
        .all()
    )
    review_ids = [r[0] for r in open_reviews]
    assessed: dict[int, set[str]] = defaultdict(set)
    signed: dict[int, set[str]] = defaultdict(set)
    agreed_started: set[int] = set()
    if review_ids:
        for review_id, source in session.execute(
            select(PartyAssessment.review_id, PartyAssessment.party).where(
                PartyAssessment.review_id.in_(review_ids), PartyAssessment.version > 0
            )
        ).tuples():
            assessed[review_id].add(RatingSource(source).value)
        for review_id, role in session.execute(
            select(Signature.review_id, Signature.role).where(
                Signature.review_id.in_(review_ids), Signature.voided_at.is_(None)
            )
        ).tuples():
            signed[review_id].add(RatingSource(role).value)
        agreed_started = set(
            session.scalars(
                select(SemesterReview.id).where(
                    SemesterReview.id.in_(review_ids), SemesterReview.version > 1
                )
            )
        )
    for review_id, appr_id, semester, ends_on in open_reviews:
        todo = result[appr_id]
        for party in todo.roles:
            todo.reviews.append(
                ReviewTodo(
                    semester=semester,
                    assess=party.value not in assessed[review_id],
                    sign=review_id in agreed_started and party.value not in signed[review_id],
                    overdue=(today - ends_on).days > overdue_days,
                )
            )
    return result
