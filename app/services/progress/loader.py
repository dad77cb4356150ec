"""Progress toward every block and toward the degree's other conditions.

:func:`compute_progress` is a pure function over loaded data; :func:`load_progress` loads that
data in a fixed number of queries, whatever the number of reviews and situations.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import (
    Apprenticeship,
    Certification,
    CompetencyRating,
    EnglishResult,
    MobilityPeriod,
    RatingSource,
    SemesterReview,
    Signature,
    SituationStatus,
    User,
    WorkSituation,
    situation_competencies,
)
from app.models.degree import whole_weeks
from app.services.degree_conditions import rules as degree_rules
from app.services.referentials.views import ReferentialView, referential_for
from app.services.reviews import rules as review_rules
from app.services.reviews.rules import ReviewRow, ReviewState
from app.services.school.apprenticeships import get as get_apprenticeship

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
ACQUIRED = "acquired"


class AgreedLevel(NamedTuple):
    """One agreed rating from a locked review."""

    competency_id: int
    semester: int
    level: int | None
    not_observed: bool


class CompetencyProgress(NamedTuple):
    competency_id: int
    code: str
    statement: str
    transversal: bool
    level: int | None  # agreed level from the latest locked review that rated it
    rated_in_semester: int | None
    acquired: bool
    evidence_count: int
    observed: bool  # ever rated (not merely "not observed") in a locked review


@dataclass(frozen=True)
class BlockProgress:
    block_id: int
    code: str
    title: str
    title_en: str
    competencies: tuple[CompetencyProgress, ...]
    acquired_count: int
    total: int
    acquired_percent: int
    mean_level: float | None
    never_observed: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class ReviewStatus:
    review_id: int
    semester: int
    starts_on: date
    ends_on: date
    state: ReviewState
    overdue: bool
    signature_count: int | None  # None when not loaded (dashboards do not show it)


@dataclass(frozen=True)
class Readiness:
    blocks_acquired: int
    blocks_total: int
    blocks_ok: bool
    english_required: str
    english_best: str | None
    english_ok: bool
    mobility_weeks: int
    mobility_min_weeks: int
    mobility_ok: bool
    periods_validated: int
    periods_total: int
    periods_ok: bool

    @property
    def ready(self) -> bool:
        return self.blocks_ok and self.english_ok and self.mobility_ok and self.periods_ok


@dataclass(frozen=True)
class Progress:
    apprenticeship_id: int
    rncp_code: str
    acquired_threshold: int
    blocks: tuple[BlockProgress, ...]
    reviews: tuple[ReviewStatus, ...]
    readiness: Readiness
    pending_semesters: tuple[int, ...] = field(default_factory=tuple)
    overdue_semesters: tuple[int, ...] = field(default_factory=tuple)


def _percent(part: int, whole: int) -> int:
    """Whole percent, rounded half up, without floats."""
    return (200 * part + whole) // (2 * whole) if whole else 0


def compute_progress(
    *,
    apprenticeship_id: int,
    referential: ReferentialView,
    semester_count: int,
    reviews: Sequence[ReviewRow],
    signature_counts: dict[int, int] | None,
    agreed: Sequence[AgreedLevel],
    evidence_counts: dict[int, int],
    english_levels: Sequence[str],
    mobility_weeks: int,
    today: date,
    overdue_days: int,
    detail: bool = True,
) -> Progress:
    """Progress from loaded data. Without ``detail`` the per-competency rows are left out
    (dashboards need only the per-block figures)."""
    threshold = referential.acquired_threshold
    latest: dict[int, AgreedLevel] = {}
    for rating in sorted(agreed, key=lambda r: r.semester):
        if rating.level is not None:
            latest[rating.competency_id] = rating
    levels_by_id: dict[int, int] = {
        cid: rating.level for cid, rating in latest.items() if rating.level is not None
    }

    blocks = []
    for block in referential.blocks:
        ids = block.competency_ids
        levels = [lvl for cid in ids if (lvl := levels_by_id.get(cid)) is not None]
        acquired_count = sum(1 for lvl in levels if lvl >= threshold)
        total = len(ids)
        items: tuple[CompetencyProgress, ...] = ()
        if detail:
            items = tuple(
                CompetencyProgress(
                    competency_id=item.competency.id,
                    code=item.competency.code,
                    statement=item.statement,
                    transversal=item.transversal,
                    level=levels_by_id.get(item.competency.id),
                    rated_in_semester=latest[item.competency.id].semester
                    if item.competency.id in latest
                    else None,
                    acquired=levels_by_id.get(item.competency.id, 0) >= threshold,
                    evidence_count=evidence_counts.get(item.competency.id, 0),
                    observed=item.competency.id in levels_by_id,
                )
                for item in block.items
            )
        if total and acquired_count == total:
            status = ACQUIRED
        elif levels:
            status = IN_PROGRESS
        else:
            status = NOT_STARTED
        blocks.append(
            BlockProgress(
                block_id=block.id,
                code=block.code,
                title=block.title,
                title_en=block.title_en,
                competencies=items,
                acquired_count=acquired_count,
                total=total,
                acquired_percent=_percent(acquired_count, total),
                mean_level=round(sum(levels) / len(levels), 2) if levels else None,
                never_observed=tuple(
                    item.competency.code
                    for item in block.items
                    if item.competency.id not in levels_by_id
                )
                if detail
                else (),
                status=status,
            )
        )

    statuses = tuple(
        ReviewStatus(
            review_id=r.id,
            semester=r.semester,
            starts_on=r.starts_on,
            ends_on=r.ends_on,
            state=review_rules.review_state(r, today),
            overdue=review_rules.is_overdue(r, today, overdue_days),
            signature_count=None if signature_counts is None else signature_counts.get(r.id, 0),
        )
        for r in sorted(reviews, key=lambda r: r.semester)
    )
    req = referential.requirements
    best_english = degree_rules.best_english(list(english_levels))
    blocks_acquired = sum(1 for b in blocks if b.status == ACQUIRED)
    periods_validated = sum(1 for r in reviews if r.is_locked)
    readiness = Readiness(
        blocks_acquired=blocks_acquired,
        blocks_total=len(blocks),
        blocks_ok=blocks_acquired == len(blocks) or not req.all_blocks_required,
        english_required=req.english_cefr_level,
        english_best=best_english,
        english_ok=degree_rules.meets_english(best_english, req.english_cefr_level),
        mobility_weeks=mobility_weeks,
        mobility_min_weeks=req.mobility_min_weeks,
        mobility_ok=mobility_weeks >= req.mobility_min_weeks,
        periods_validated=periods_validated,
        periods_total=semester_count,
        periods_ok=periods_validated >= semester_count or not req.company_periods_required,
    )
    return Progress(
        apprenticeship_id=apprenticeship_id,
        rncp_code=referential.rncp_code,
        acquired_threshold=threshold,
        blocks=tuple(blocks),
        reviews=statuses,
        readiness=readiness,
        pending_semesters=tuple(s.semester for s in statuses if s.state is ReviewState.PENDING),
        overdue_semesters=tuple(s.semester for s in statuses if s.overdue),
    )


EVIDENCE_STATUSES = (SituationStatus.SUBMITTED, SituationStatus.ACKNOWLEDGED)


def load_progress(
    session: Session,
    settings: Settings,
    actor: User,
    apprenticeship_id: int,
    today: date | None = None,
) -> tuple[Apprenticeship, Progress]:
    """Load and compute one apprenticeship's progress in a fixed number of queries."""
    appr = get_apprenticeship(session, actor, apprenticeship_id)
    return appr, load_progress_many(session, settings, [appr], today)[appr.id]


# Agreed levels of locked reviews never change while the review stays locked (a change needs
# a reopen, which bumps the review's version and its lock time). So the latest locked level of
# every competency is cached per apprenticeship, keyed on its locked reviews, their versions
# and lock times: a cached entry is never stale, and dashboards stop re-ranking thousands of
# ratings on every load. A cache miss costs one query, whatever the number of misses.
_LATEST_CACHE_SIZE = 5000
LockedKey = tuple[tuple[int, int, datetime | None], ...]
_latest_cache: OrderedDict[int, tuple[LockedKey, list[AgreedLevel]]] = OrderedDict()
_latest_lock = threading.Lock()


def _locked_key(rows: Sequence[ReviewRow]) -> LockedKey:
    """Which reviews are locked, in which version, since when (a lock that was rolled back
    and redone gets another timestamp)."""
    return tuple(sorted((r.id, r.version, r.locked_at) for r in rows if r.is_locked))


def _latest_agreed_levels(
    session: Session, reviews: dict[int, list[ReviewRow]]
) -> dict[int, list[AgreedLevel]]:
    """Per apprenticeship, the agreed level of each competency from the latest locked review
    that rated it. Only apprenticeships missing from the cache are ranked, by the database."""
    result: dict[int, list[AgreedLevel]] = {}
    keys = {appr_id: _locked_key(rows) for appr_id, rows in reviews.items()}
    with _latest_lock:
        for appr_id, key in keys.items():
            hit = _latest_cache.get(appr_id)
            if hit is not None and hit[0] == key:
                _latest_cache.move_to_end(appr_id)
                result[appr_id] = hit[1]
    misses = [appr_id for appr_id, key in keys.items() if appr_id not in result and key]
    for appr_id, key in keys.items():
        if not key:
            result[appr_id] = []  # nothing locked yet: nothing to rank
    if not misses:
        return result
    ranked = (
        select(
            SemesterReview.apprenticeship_id.label("appr_id"),
            CompetencyRating.competency_id.label("competency_id"),
            SemesterReview.semester.label("semester"),
            CompetencyRating.level.label("level"),
            func.row_number()
            .over(
                partition_by=(SemesterReview.apprenticeship_id, CompetencyRating.competency_id),
                order_by=SemesterReview.semester.desc(),
            )
            .label("rank"),
        )
        .join(SemesterReview, SemesterReview.id == CompetencyRating.review_id)
        .where(
            SemesterReview.apprenticeship_id.in_(misses),
            SemesterReview.locked_at.is_not(None),
            CompetencyRating.source == RatingSource.AGREED,
            CompetencyRating.level.is_not(None),
        )
        .subquery()
    )
    fresh: dict[int, list[AgreedLevel]] = {appr_id: [] for appr_id in misses}
    for appr_id, cid, semester, level in session.execute(
        select(ranked.c.appr_id, ranked.c.competency_id, ranked.c.semester, ranked.c.level).where(
            ranked.c.rank == 1
        )
    ).tuples():
        fresh[appr_id].append(AgreedLevel(cid, semester, level, False))
    with _latest_lock:
        for appr_id, levels in fresh.items():
            _latest_cache[appr_id] = (keys[appr_id], levels)
            _latest_cache.move_to_end(appr_id)
        while len(_latest_cache) > _LATEST_CACHE_SIZE:
            _latest_cache.popitem(last=False)
    result.update(fresh)
    return result


def clear_cache() -> None:
    with _latest_lock:
        _latest_cache.clear()


class _CohortOf(Protocol):
    @property
    def certification(self) -> Certification: ...


class ProgressSubject(Protocol):
    """An apprenticeship as progress needs it (the ORM row, or a lighter record)."""

    @property
    def id(self) -> int: ...
    @property
    def semester_count(self) -> int: ...
    @property
    def cohort(self) -> _CohortOf: ...


def load_progress_many(
    session: Session,
    settings: Settings,
    apprenticeships: Sequence[ProgressSubject],
    today: date | None = None,
    *,
    detail: bool = True,
) -> dict[int, Progress]:
    """Progress of many apprenticeships (already access-checked, cohort and certification
    loaded) in the same fixed number of queries as one."""
    if not apprenticeships:
        return {}
    ids = [a.id for a in apprenticeships]
    columns: list[Any] = [
        SemesterReview.id,
        SemesterReview.apprenticeship_id,
        SemesterReview.semester,
        SemesterReview.starts_on,
        SemesterReview.ends_on,
        SemesterReview.locked_at,
        SemesterReview.version,
    ]
    # Signature counts are shown only in the detailed view; dashboards skip the subquery.
    signature_counts: dict[int, int] | None = {} if detail else None
    if detail:
        columns.append(
            select(func.count(Signature.id))
            .where(Signature.review_id == SemesterReview.id, Signature.voided_at.is_(None))
            .correlate(SemesterReview)
            .scalar_subquery()
        )
    reviews: dict[int, list[ReviewRow]] = {appr_id: [] for appr_id in ids}
    for values in session.execute(
        select(*columns).where(SemesterReview.apprenticeship_id.in_(ids))
    ).tuples():
        row = ReviewRow(*values[: len(ReviewRow._fields)])
        reviews[row.apprenticeship_id].append(row)
        if signature_counts is not None:
            signature_counts[row.id] = values[-1]

    agreed = _latest_agreed_levels(session, reviews)

    evidence: dict[int, dict[int, int]] = defaultdict(dict)
    if detail:  # evidence counts are per competency: only the detailed view shows them
        for appr_id, cid, count in session.execute(
            select(
                WorkSituation.apprenticeship_id,
                situation_competencies.c.competency_id,
                func.count(),
            )
            .join(WorkSituation, WorkSituation.id == situation_competencies.c.work_situation_id)
            .where(
                WorkSituation.apprenticeship_id.in_(ids),
                WorkSituation.status.in_(EVIDENCE_STATUSES),
            )
            .group_by(WorkSituation.apprenticeship_id, situation_competencies.c.competency_id)
        ).tuples():
            evidence[appr_id][cid] = count

    english: dict[int, list[str]] = defaultdict(list)
    for appr_id, level in session.execute(
        select(EnglishResult.apprenticeship_id, EnglishResult.cefr_level).where(
            EnglishResult.apprenticeship_id.in_(ids)
        )
    ).tuples():
        english[appr_id].append(level)
    mobility: dict[int, int] = defaultdict(int)
    for appr_id, starts_on, ends_on in session.execute(
        select(
            MobilityPeriod.apprenticeship_id, MobilityPeriod.starts_on, MobilityPeriod.ends_on
        ).where(MobilityPeriod.apprenticeship_id.in_(ids))
    ).tuples():
        mobility[appr_id] += whole_weeks(starts_on, ends_on)

    today = today or date.today()
    return {
        appr.id: compute_progress(
            apprenticeship_id=appr.id,
            referential=referential_for(session, appr.cohort.certification),
            semester_count=appr.semester_count,
            reviews=reviews[appr.id],
            signature_counts=signature_counts,
            agreed=agreed[appr.id],
            evidence_counts=evidence[appr.id],
            english_levels=english[appr.id],
            mobility_weeks=mobility[appr.id],
            today=today,
            overdue_days=settings.review_overdue_days,
            detail=detail,
        )
        for appr in apprenticeships
    }
