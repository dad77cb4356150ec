"""Loading what progress is computed from (:mod:`app.services.progress.rules`), in a fixed
number of queries whatever the number of reviews and situations, with a cache of the latest
agreed levels of locked reviews."""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

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
from app.services.progress.rules import (
    AgreedLevel,
    Progress,
    compute_progress,
)
from app.services.referentials.views import referential_for
from app.services.reviews.rules import ReviewRow
from app.services.school.apprenticeships import get as get_apprenticeship

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
    columns: list[Any] = ReviewRow.columns()
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
