"""Loading a semester review with everything its page, its API answer and its workflow need,
in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.models import (
    Apprenticeship,
    CompetencyRating,
    Party,
    PartyAssessment,
    RatingSource,
    SemesterReview,
    Signature,
    User,
)
from app.services.access import get_visible_apprenticeship, require_party, roles_of
from app.services.errors import Conflict, NotFound
from app.services.referentials.views import ReferentialView, referential_for
from app.services.reviews import rules, signed_content
from app.services.reviews.signed_content import Verification
from app.services.school.apprenticeships import detail_options


@dataclass
class ReviewDetail:
    """Everything a review page or API response needs, loaded in a fixed number of queries."""

    apprenticeship: Apprenticeship
    review: SemesterReview
    referential: ReferentialView
    ratings: dict[RatingSource, dict[int, CompetencyRating]]
    assessments: dict[Party, PartyAssessment]
    signatures: list[Signature]

    @property
    def active_signatures(self) -> list[Signature]:
        return [s for s in self.signatures if s.is_active]

    @property
    def voided_signatures(self) -> list[Signature]:
        return [s for s in self.signatures if not s.is_active]

    @property
    def signed_roles(self) -> set[Party]:
        return {s.role for s in self.active_signatures}

    @property
    def divergences(self) -> set[int]:
        return rules.divergent_competencies(
            self.ratings[RatingSource.APPRENTICE], self.ratings[RatingSource.TUTOR]
        )

    @property
    def agreed_complete(self) -> bool:
        filled = (
            r.competency_id
            for r in self.ratings[RatingSource.AGREED].values()
            if rules.is_filled(r.level, r.not_observed)
        )
        return rules.agreed_is_complete(filled, [c.id for c in self.referential.competencies])

    def sign_blockers(self, roles: set[Party], role: Party) -> tuple[rules.SignBlocker, ...]:
        return rules.sign_blockers(
            role,
            roles=roles,
            locked=self.review.is_locked,
            agreed_complete=self.agreed_complete,
            signed_roles=self.signed_roles,
        )

    def content(self) -> dict[str, Any]:
        return signed_content.agreed_content(
            self.apprenticeship, self.review, self.referential, self.ratings[RatingSource.AGREED]
        )

    def content_hash(self) -> str:
        return signed_content.content_hash(self.content())

    def verification(self) -> Verification:
        return signed_content.verify(self.signatures, self.content_hash())


def load_apprenticeship(session: Session, actor: User, apprenticeship_id: int) -> Apprenticeship:
    return get_visible_apprenticeship(session, actor, apprenticeship_id, detail_options())


def list_reviews(
    session: Session, actor: User, apprenticeship_id: int
) -> tuple[Apprenticeship, Sequence[SemesterReview]]:
    appr = load_apprenticeship(session, actor, apprenticeship_id)
    reviews = (
        session.scalars(
            select(SemesterReview)
            .where(SemesterReview.apprenticeship_id == appr.id)
            .options(joinedload(SemesterReview.signatures))
            .order_by(SemesterReview.semester)
        )
        .unique()
        .all()
    )
    return appr, reviews


def load_detail(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    semester: int,
    *,
    for_update: bool = False,
) -> ReviewDetail:
    appr = load_apprenticeship(session, actor, apprenticeship_id)
    stmt = select(SemesterReview).where(
        SemesterReview.apprenticeship_id == appr.id, SemesterReview.semester == semester
    )
    if for_update:
        stmt = stmt.with_for_update()
    review = session.scalars(stmt).one_or_none()
    if review is None:
        raise NotFound("No such semester review.")
    referential = referential_for(session, appr.cohort.certification)
    ratings: dict[RatingSource, dict[int, CompetencyRating]] = {s: {} for s in RatingSource}
    for rating in session.scalars(
        select(CompetencyRating).where(CompetencyRating.review_id == review.id)
    ):
        ratings[rating.source][rating.competency_id] = rating
    assessments = {
        a.party: a
        for a in session.scalars(
            select(PartyAssessment)
            .where(PartyAssessment.review_id == review.id)
            .options(joinedload(PartyAssessment.updated_by))
        )
    }
    signatures = list(
        session.scalars(
            select(Signature)
            .where(Signature.review_id == review.id)
            .options(joinedload(Signature.signer))
            .order_by(Signature.signed_at, Signature.id)
        )
    )
    return ReviewDetail(appr, review, referential, ratings, assessments, signatures)


def require_may_sign(detail: ReviewDetail, actor: User, role: Party) -> None:
    """Raise unless ``actor`` may sign ``detail`` in ``role`` now: 403 outside the role, 409
    for the review's state (:func:`rules.sign_blockers`)."""
    blockers = detail.sign_blockers(roles_of(actor, detail.apprenticeship), role)
    if rules.SignBlocker.NOT_PARTY in blockers:
        require_party(actor, detail.apprenticeship, role)
    if blockers:
        raise Conflict(blockers[0].message)
