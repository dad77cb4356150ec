"""What progress means, as a pure function over loaded data (:func:`compute_progress`): a
competency is acquired when the agreed level of the latest locked review that rated it reaches
the certification's threshold; a block is acquired when all its competencies are; the degree is
within reach when every block, the English level, the mobility and the company periods are.

:mod:`app.services.progress.loader` loads the data in a fixed number of queries.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from app.i18n import N_
from app.services.degree_conditions import rules as degree_rules
from app.services.referentials.views import ReferentialView
from app.services.reviews import rules as review_rules
from app.services.reviews.rules import ReviewRow, ReviewState


class BlockStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    ACQUIRED = "acquired"

    @property
    def label(self) -> str:
        """A msgid for people (translate it where it is shown)."""
        return _BLOCK_LABELS[self]


_BLOCK_LABELS = {
    BlockStatus.NOT_STARTED: N_("not started"),
    BlockStatus.IN_PROGRESS: N_("in progress"),
    BlockStatus.ACQUIRED: N_("acquired in company"),
}


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
    status: BlockStatus


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
            status = BlockStatus.ACQUIRED
        elif levels:
            status = BlockStatus.IN_PROGRESS
        else:
            status = BlockStatus.NOT_STARTED
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
    blocks_acquired = sum(1 for b in blocks if b.status is BlockStatus.ACQUIRED)
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
