"""The livret as a document: everything the PDF shows, gathered in a fixed number of queries.

:func:`load_livret` is the access-checked path (the apprentice, their tutor and supervisor, and
administrators; anyone else gets ``NotFound``). :func:`load_cohort_livrets` is the trusted path
of the command line: whoever runs ``livret export livrets`` already holds the database, so it
loads a cohort's apprenticeships directly, with no actor, like an administrator would see them.

Both build :class:`LivretDocument` values with :func:`gather`, whose query count does not grow
with the number of apprentices, reviews or work situations. Rendering
(:mod:`app.services.documents.livret_pdf`) works on these values only and never queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.config import Settings
from app.models import (
    Apprenticeship,
    Cohort,
    CompetencyRating,
    EnglishResult,
    MobilityPeriod,
    Party,
    PartyAssessment,
    RatingSource,
    SemesterReview,
    Signature,
    User,
    WorkSituation,
)
from app.models.base import utcnow
from app.services.errors import NotFound
from app.services.journal.situations import situation_options
from app.services.pages.charts import BarChart, RadarChart, bar_chart, radar_chart
from app.services.progress.loader import EVIDENCE_STATUSES, load_progress_many
from app.services.progress.rules import Progress
from app.services.referentials.views import ReferentialView, referential_for, short_code
from app.services.reviews.detail import ReviewDetail
from app.services.reviews.page import Group, groups_of
from app.services.reviews.signed_content import SignatureCheck, SignatureStatus
from app.services.school import apprenticeships as apprenticeship_service
from app.web.urls import review_url


@dataclass(frozen=True)
class LockedReview:
    """One signed and locked semester review, with what its certificate needs."""

    detail: ReviewDetail
    groups: tuple[Group, ...]
    content_hash: str  # recomputed from the agreed content now
    checks: tuple[SignatureCheck, ...]  # the active signatures, each intact or altered
    verification_url: str

    @property
    def semester(self) -> int:
        return self.detail.review.semester

    @property
    def intact(self) -> bool:
        return all(c.status is SignatureStatus.INTACT for c in self.checks)


@dataclass(frozen=True)
class LivretDocument:
    apprenticeship: Apprenticeship  # apprentice, tutor, supervisor, company, cohort loaded
    referential: ReferentialView
    progress: Progress
    bars: BarChart
    radar: RadarChart
    reviews: tuple[LockedReview, ...]
    situations: tuple[WorkSituation, ...]  # submitted and acknowledged, oldest first
    english_results: tuple[EnglishResult, ...]
    mobility_periods: tuple[MobilityPeriod, ...]
    generated_at: datetime

    @property
    def apprentice(self) -> User:
        return self.apprenticeship.apprentice


def verification_url(settings: Settings, apprenticeship_id: int, semester: int) -> str:
    return settings.base_url.rstrip("/") + review_url(apprenticeship_id, semester)


def gather(
    session: Session,
    settings: Settings,
    apprenticeships: Sequence[Apprenticeship],
    today: date | None = None,
) -> list[LivretDocument]:
    """Documents for apprenticeships already access-checked and loaded with
    :func:`app.services.school.apprenticeships.detail_options`, in a fixed number of queries."""
    if not apprenticeships:
        return []
    today = today or date.today()
    ids = [a.id for a in apprenticeships]
    progress = load_progress_many(session, settings, apprenticeships, today)

    reviews = session.scalars(
        select(SemesterReview)
        .where(SemesterReview.apprenticeship_id.in_(ids), SemesterReview.locked_at.is_not(None))
        .options(selectinload(SemesterReview.signatures).joinedload(Signature.signer))
        .order_by(SemesterReview.apprenticeship_id, SemesterReview.semester)
    ).all()
    review_ids = [r.id for r in reviews]
    ratings: dict[int, dict[RatingSource, dict[int, CompetencyRating]]] = {
        rid: {s: {} for s in RatingSource} for rid in review_ids
    }
    assessments: dict[int, dict[Party, PartyAssessment]] = defaultdict(dict)
    if review_ids:
        for rating in session.scalars(
            select(CompetencyRating).where(CompetencyRating.review_id.in_(review_ids))
        ):
            ratings[rating.review_id][rating.source][rating.competency_id] = rating
        for assessment in session.scalars(
            select(PartyAssessment).where(PartyAssessment.review_id.in_(review_ids))
        ):
            assessments[assessment.review_id][assessment.party] = assessment

    situations: dict[int, list[WorkSituation]] = defaultdict(list)
    for situation in session.scalars(
        select(WorkSituation)
        .where(
            WorkSituation.apprenticeship_id.in_(ids),
            WorkSituation.status.in_(EVIDENCE_STATUSES),
        )
        .options(*situation_options())
        .order_by(WorkSituation.starts_on, WorkSituation.id)
    ).unique():
        situations[situation.apprenticeship_id].append(situation)
    english: dict[int, list[EnglishResult]] = defaultdict(list)
    for result in session.scalars(
        select(EnglishResult)
        .where(EnglishResult.apprenticeship_id.in_(ids))
        .order_by(EnglishResult.taken_on, EnglishResult.id)
    ):
        english[result.apprenticeship_id].append(result)
    mobility: dict[int, list[MobilityPeriod]] = defaultdict(list)
    for period in session.scalars(
        select(MobilityPeriod)
        .where(MobilityPeriod.apprenticeship_id.in_(ids))
        .order_by(MobilityPeriod.starts_on, MobilityPeriod.id)
    ):
        mobility[period.apprenticeship_id].append(period)

    by_appr = {a.id: a for a in apprenticeships}
    locked: dict[int, list[LockedReview]] = defaultdict(list)
    for review in reviews:
        appr = by_appr[review.apprenticeship_id]
        referential = referential_for(session, appr.cohort.certification)
        detail = ReviewDetail(
            appr,
            review,
            referential,
            ratings[review.id],
            assessments[review.id],
            list(review.signatures),
        )
        verification = detail.verification()
        locked[appr.id].append(
            LockedReview(
                detail=detail,
                groups=groups_of(detail),
                content_hash=verification.content_hash,
                checks=tuple(
                    c for c in verification.checks if c.status is not SignatureStatus.VOIDED
                ),
                verification_url=verification_url(settings, appr.id, review.semester),
            )
        )

    now = utcnow()
    documents = []
    for appr in apprenticeships:
        prog = progress[appr.id]
        items = [(short_code(b.code), b.acquired_percent) for b in prog.blocks]
        documents.append(
            LivretDocument(
                apprenticeship=appr,
                referential=referential_for(session, appr.cohort.certification),
                progress=prog,
                bars=bar_chart(items),
                radar=radar_chart(items),
                reviews=tuple(locked[appr.id]),
                situations=tuple(situations[appr.id]),
                english_results=tuple(english[appr.id]),
                mobility_periods=tuple(mobility[appr.id]),
                generated_at=now,
            )
        )
    return documents


def load_livret(
    session: Session,
    settings: Settings,
    actor: User,
    apprenticeship_id: int,
    today: date | None = None,
) -> LivretDocument:
    """The livret of one apprenticeship the actor may see (parties and admins), or NotFound."""
    appr = apprenticeship_service.get(session, actor, apprenticeship_id)
    return gather(session, settings, [appr], today)[0]


def load_cohort_livrets(
    session: Session, settings: Settings, cohort_id: int, today: date | None = None
) -> list[LivretDocument]:
    """Every livret of a cohort, for the trusted command line (no actor, admin-equivalent)."""
    if session.get(Cohort, cohort_id) is None:
        raise NotFound("No such cohort.")
    apprenticeships = (
        session.scalars(
            select(Apprenticeship)
            .join(Apprenticeship.apprentice)
            .where(Apprenticeship.cohort_id == cohort_id)
            .options(*apprenticeship_service.detail_options())
            .order_by(User.full_name, Apprenticeship.id)
        )
        .unique()
        .all()
    )
    return gather(session, settings, apprenticeships, today)


__all__ = [
    "LivretDocument",
    "LockedReview",
    "gather",
    "load_cohort_livrets",
    "load_livret",
    "verification_url",
]
