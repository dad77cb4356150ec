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
    CompetencyRating,
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
from app.services.journal import rules as journal_rules
from app.services.referentials.views import referential_for
from app.services.reviews import rules as review_rules
from app.services.reviews.rules import ReviewRow


@dataclass
class ReviewTodo:
    semester: int
    assess: bool  # my assessment is still empty
    sign: bool  # I may sign now (reviews.rules.sign_blockers finds nothing)
    overdue: bool


@dataclass
class Todo:
    apprenticeship_id: int
    roles: set[Party]
    drafts: int = 0
    sent_back: int = 0
    to_acknowledge: int = 0
    # For the supervisor: situations the tutor has left waiting too long.
    waiting_for_the_tutor: int = 0
    reviews: list[ReviewTodo] = field(default_factory=list)

    @property
    def count(self) -> int:
        return (
            self.drafts + self.to_acknowledge + sum(1 for r in self.reviews if r.assess or r.sign)
        )

    @property
    def late_semesters(self) -> list[int]:
        """Overdue reviews (the supervisor follows them even once their own part is done)."""
        return sorted({r.semester for r in self.reviews if r.overdue})

    @property
    def concerns_the_supervisor(self) -> bool:
        return bool(self.count or self.waiting_for_the_tutor or self.late_semesters)


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
            func.sum(case((journal_rules.sent_back_condition(), 1), else_=0)),
            func.sum(case((journal_rules.waiting_too_long_condition(today), 1), else_=0)),
        )
        .where(WorkSituation.apprenticeship_id.in_(ids))
        .where(WorkSituation.status.in_([SituationStatus.DRAFT, SituationStatus.SUBMITTED]))
        .group_by(WorkSituation.apprenticeship_id, WorkSituation.status)
    ).tuples()
    for appr_id, status, count, with_comment, waiting_long in situation_counts:
        todo = result[appr_id]
        if status == SituationStatus.SUBMITTED and Party.SUPERVISOR in todo.roles:
            todo.waiting_for_the_tutor = int(waiting_long or 0)
        if status == SituationStatus.DRAFT and Party.APPRENTICE in todo.roles:
            todo.drafts = count
            todo.sent_back = int(with_comment or 0)
        elif status == SituationStatus.SUBMITTED and Party.TUTOR in todo.roles:
            todo.to_acknowledge = count

    open_reviews = [
        ReviewRow(*values)
        for values in session.execute(
            select(*ReviewRow.columns())
            .where(
                SemesterReview.apprenticeship_id.in_(ids),
                SemesterReview.locked_at.is_(None),
                SemesterReview.starts_on <= today,
            )
            .order_by(SemesterReview.semester)
        ).tuples()
    ]
    review_ids = [r.id for r in open_reviews]
    assessed: dict[int, set[Party]] = defaultdict(set)
    signed: dict[int, set[Party]] = defaultdict(set)
    filled: dict[int, set[int]] = defaultdict(set)
    if review_ids:
        for review_id, party in session.execute(
            select(PartyAssessment.review_id, PartyAssessment.party).where(
                PartyAssessment.review_id.in_(review_ids), PartyAssessment.version > 0
            )
        ).tuples():
            assessed[review_id].add(party)
        for review_id, role in session.execute(
            select(Signature.review_id, Signature.role).where(
                Signature.review_id.in_(review_ids), Signature.voided_at.is_(None)
            )
        ).tuples():
            signed[review_id].add(role)
        for review_id, competency_id in session.execute(
            select(CompetencyRating.review_id, CompetencyRating.competency_id).where(
                CompetencyRating.review_id.in_(review_ids),
                CompetencyRating.source == RatingSource.AGREED,
                review_rules.filled_condition(),
            )
        ).tuples():
            filled[review_id].add(competency_id)
    with_open_reviews = {r.apprenticeship_id for r in open_reviews}
    required = {
        a.id: [c.id for c in referential_for(session, a.cohort.certification).competencies]
        for a in apprenticeships
        if a.id in with_open_reviews
    }
    for review in open_reviews:
        todo = result[review.apprenticeship_id]
        complete = review_rules.agreed_is_complete(
            filled[review.id], required[review.apprenticeship_id]
        )
        for party in (p for p in review_rules.PARTIES if p in todo.roles):
            todo.reviews.append(
                ReviewTodo(
                    semester=review.semester,
                    assess=party not in assessed[review.id],
                    sign=not review_rules.sign_blockers(
                        party,
                        roles=todo.roles,
                        locked=review.is_locked,
                        agreed_complete=complete,
                        signed_roles=signed[review.id],
                    ),
                    overdue=review_rules.is_overdue(review, today, overdue_days),
                )
            )
    return result
