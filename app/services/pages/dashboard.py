"""The supervisor's cohort dashboard: apprentices × blocks, review status, overdue flags,
divergences, English and mobility; filtered, sorted, and exported exactly as shown.

Every query is scoped in SQL to what the viewer may see; the number of queries does not grow
with the cohort's size."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.config import Settings
from app.models import (
    Apprenticeship,
    Certification,
    Cohort,
    CompetencyRating,
    Organisation,
    RatingSource,
    User,
)
from app.services import access
from app.services.access import visible_apprenticeships_filter
from app.services.errors import NotFound
from app.services.notifications.reminders import last_reminded
from app.services.progress.loader import load_progress_many
from app.services.progress.rules import Progress, ReviewStatus
from app.services.referentials.views import ReferentialView, referential_for, short_code
from app.services.reviews import rules as review_rules
from app.services.reviews.rules import ReviewState

STATUSES = ("all", "overdue", "divergent", "pending", "ready", "not_ready")
FIXED_SORTS = ("name", "company", "review", "overdue", "divergences", "english", "mobility")
MAX_QUERY = 100


@dataclass(frozen=True)
class Filters:
    cohort_id: int | None = None
    status: str = "all"
    q: str = ""
    sort: str = "name"
    direction: str = "asc"

    def query_string(self, **changes: str | int | None) -> str:
        from urllib.parse import urlencode

        values = {
            "cohort": self.cohort_id,
            "status": self.status,
            "q": self.q,
            "sort": self.sort,
            "dir": self.direction,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


@dataclass(frozen=True)
class Row:
    apprenticeship: ApprenticeshipRow
    progress: Progress
    last_review: ReviewStatus | None
    overdue: bool
    divergences: int
    # When the apprentice and the tutor were last sent a reminder digest (livret remind).
    apprentice_reminded_at: datetime | None = None
    tutor_reminded_at: datetime | None = None

    def block_percent(self, index: int) -> int:
        return self.progress.blocks[index].acquired_percent

    @property
    def english(self) -> str | None:
        return self.progress.readiness.english_best

    @property
    def mobility_weeks(self) -> int:
        return self.progress.readiness.mobility_weeks


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    cohorts: Sequence[Cohort]
    cohort: Cohort | None
    referential: ReferentialView | None
    rows: list[Row]
    total_in_cohort: int

    @property
    def block_codes(self) -> list[str]:
        return [b.code for b in self.referential.blocks] if self.referential else []

    @property
    def block_columns(self) -> list[tuple[str, str]]:
        """(sort key, header) of each block's column: "block0", "BC01"…"""
        return [(f"block{i}", short_code(code)) for i, code in enumerate(self.block_codes)]


class Person(NamedTuple):
    id: int
    full_name: str
    email: str


class Company(NamedTuple):
    name: str


class CohortRef(NamedTuple):
    id: int
    name: str
    certification: Certification


class ApprenticeshipRow(NamedTuple):
    """What a dashboard row shows of an apprenticeship, read as plain columns: building
    hundreds of ORM objects was most of a large cohort's page time."""

    id: int
    apprentice_id: int
    tutor_id: int
    semester_count: int
    apprentice: Person
    company: Company
    cohort: CohortRef


def _apprenticeship_rows(session: Session, viewer: User, cohort: Cohort) -> list[ApprenticeshipRow]:
    certification = session.get(Certification, cohort.certification_id)
    assert certification is not None  # a non-null foreign key
    cohort_ref = CohortRef(cohort.id, cohort.name, certification)
    rows = session.execute(
        select(
            Apprenticeship.id,
            Apprenticeship.apprentice_id,
            Apprenticeship.tutor_id,
            Apprenticeship.semester_count,
            User.full_name,
            User.email,
            Organisation.name,
        )
        .join(User, User.id == Apprenticeship.apprentice_id)
        .join(Organisation, Organisation.id == Apprenticeship.company_id)
        .where(visible_apprenticeships_filter(viewer), Apprenticeship.cohort_id == cohort.id)
    ).tuples()
    return [
        ApprenticeshipRow(
            appr_id,
            apprentice_id,
            tutor_id,
            semesters,
            Person(apprentice_id, name, email),
            Company(company),
            cohort_ref,
        )
        for appr_id, apprentice_id, tutor_id, semesters, name, email, company in rows
    ]


def visible_cohorts(session: Session, viewer: User) -> Sequence[Cohort]:
    ids = select(Apprenticeship.cohort_id).where(visible_apprenticeships_filter(viewer))
    return session.scalars(
        select(Cohort).where(Cohort.id.in_(ids)).order_by(Cohort.intake_year.desc(), Cohort.name)
    ).all()


# Built once: each aliased() builds a table alias whose columns point back at it, a reference
# cycle per request for the garbage collector.
_APPRENTICE_RATING, _TUTOR_RATING = aliased(CompetencyRating), aliased(CompetencyRating)


def _divergences(session: Session, review_ids: list[int]) -> dict[int, int]:
    if not review_ids:
        return {}
    mine, theirs = _APPRENTICE_RATING, _TUTOR_RATING
    rows = session.execute(
        select(mine.review_id, func.count())
        .join(
            theirs,
            (theirs.review_id == mine.review_id) & (theirs.competency_id == mine.competency_id),
        )
        .where(
            mine.review_id.in_(review_ids),
            mine.source == RatingSource.APPRENTICE,
            theirs.source == RatingSource.TUTOR,
            review_rules.divergence_condition(mine, theirs),
        )
        .group_by(mine.review_id)
    ).tuples()
    return dict(rows.all())


def _matches(row: Row, status: str) -> bool:
    readiness = row.progress.readiness
    return {
        "all": True,
        "overdue": row.overdue,
        "divergent": row.divergences > 0,
        "pending": bool(row.progress.pending_semesters),
        "ready": readiness.ready,
        "not_ready": not readiness.ready,
    }[status]


_REVIEW_ORDER = {ReviewState.LOCKED: 2, ReviewState.PENDING: 1, ReviewState.UPCOMING: 0}


def _sort_key(sort: str) -> Callable[[Row], Any]:
    if sort.startswith("block"):
        index = int(sort[5:])
        return lambda r: (r.block_percent(index), r.apprenticeship.apprentice.full_name)
    return {
        "name": lambda r: r.apprenticeship.apprentice.full_name.lower(),
        "company": lambda r: (
            r.apprenticeship.company.name.lower(),
            r.apprenticeship.apprentice.full_name,
        ),
        "review": lambda r: (
            (r.last_review.semester, _REVIEW_ORDER[r.last_review.state])
            if r.last_review
            else (0, 0),
            r.apprenticeship.apprentice.full_name,
        ),
        "overdue": lambda r: (r.overdue, r.apprenticeship.apprentice.full_name),
        "divergences": lambda r: (r.divergences, r.apprenticeship.apprentice.full_name),
        "english": lambda r: (r.english or "", r.apprenticeship.apprentice.full_name),
        "mobility": lambda r: (r.mobility_weeks, r.apprenticeship.apprentice.full_name),
    }[sort]


def clean_filters(raw: Filters, block_count: int) -> Filters:
    valid_sorts = set(FIXED_SORTS) | {f"block{i}" for i in range(block_count)}
    return Filters(
        cohort_id=raw.cohort_id,
        status=raw.status if raw.status in STATUSES else "all",
        q=raw.q.strip()[:MAX_QUERY],
        sort=raw.sort if raw.sort in valid_sorts else "name",
        direction="desc" if raw.direction == "desc" else "asc",
    )


def build(
    session: Session, settings: Settings, viewer: User, raw: Filters, today: date
) -> Dashboard:
    cohorts = visible_cohorts(session, viewer)
    cohort = next((c for c in cohorts if c.id == raw.cohort_id), None) or (
        cohorts[0] if cohorts else None
    )
    if cohort is None:
        return Dashboard(clean_filters(raw, 0), cohorts, None, None, [], 0)
    apprenticeships = _apprenticeship_rows(session, viewer, cohort)
    referential = (
        referential_for(session, apprenticeships[0].cohort.certification)
        if apprenticeships
        else None
    )
    filters = clean_filters(
        Filters(cohort.id, raw.status, raw.q, raw.sort, raw.direction),
        len(referential.blocks) if referential else 0,
    )
    progress = load_progress_many(session, settings, apprenticeships, today, detail=False)
    # Each apprentice's current review: the latest that has started (already loaded).
    current_reviews: dict[int, ReviewStatus] = {}
    for appr_id, prog in progress.items():
        started = [r for r in prog.reviews if r.state is not ReviewState.UPCOMING]
        if started:
            current_reviews[appr_id] = started[-1]
    divergences = _divergences(session, [r.review_id for r in current_reviews.values()])
    reminded = last_reminded(
        session, [a.apprentice_id for a in apprenticeships] + [a.tutor_id for a in apprenticeships]
    )
    needle = filters.q.lower()
    rows = []
    for appr in apprenticeships:
        prog = progress[appr.id]
        current = current_reviews.get(appr.id)
        row = Row(
            apprenticeship=appr,
            progress=prog,
            last_review=current,
            overdue=bool(prog.overdue_semesters),
            divergences=divergences.get(current.review_id, 0) if current else 0,
            apprentice_reminded_at=reminded.get(appr.apprentice_id),
            tutor_reminded_at=reminded.get(appr.tutor_id),
        )
        if (
            needle
            and needle not in appr.apprentice.full_name.lower()
            and (needle not in appr.company.name.lower())
        ):
            continue
        if _matches(row, filters.status):
            rows.append(row)
    rows.sort(key=_sort_key(filters.sort), reverse=filters.direction == "desc")
    return Dashboard(filters, cohorts, cohort, referential, rows, len(apprenticeships))


def cohort_progress(
    session: Session, settings: Settings, viewer: User, cohort_id: int, today: date
) -> Dashboard:
    """One cohort's dashboard, all its rows, scoped as the page is (the API's cohort
    progress): supervisors and administrators only (403 otherwise), and a cohort where the
    viewer sees no apprenticeship is not found (404), as an outsider's record would be."""
    supervises = bool(session.scalar(select(access.supervises_any(viewer.id))))
    access.require_cohort_follower(viewer, supervises=supervises)
    if cohort_id not in {c.id for c in visible_cohorts(session, viewer)}:
        raise NotFound("No such cohort.")
    return build(session, settings, viewer, Filters(cohort_id=cohort_id), today)
