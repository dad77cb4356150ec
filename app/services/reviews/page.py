"""What the review page shows: competencies grouped by block, the three columns, the agreed
level, who may edit what, the signature panel and the verification badge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.config import Settings
from app.models import CompetencyRating, RatingSource, User
from app.services.access import Party, roles_of
from app.services.errors import InvalidInput
from app.services.referentials.views import CompetencyView
from app.services.reviews import workflow as review_service
from app.services.reviews.workflow import ReviewDetail, Verification

SOURCES = (RatingSource.APPRENTICE, RatingSource.TUTOR, RatingSource.SUPERVISOR)


@dataclass(frozen=True)
class Row:
    competency: CompetencyView
    statement: str
    ratings: dict[RatingSource, CompetencyRating | None]
    divergent: bool


@dataclass(frozen=True)
class Group:
    code: str
    title: str
    title_en: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class ReviewPage:
    detail: ReviewDetail
    groups: tuple[Group, ...]
    viewer_roles: frozenset[Party]
    editable_sources: frozenset[RatingSource]  # the viewer's own columns, while open
    can_edit_agreed: bool
    sign_roles: tuple[Party, ...]  # roles the viewer may still sign in
    can_reopen: bool
    verification: Verification
    state: str
    overdue: bool

    @property
    def versions(self) -> dict[str, int]:
        versions = {
            s.value: (a.version if (a := self.detail.assessments.get(s)) else 0) for s in SOURCES
        }
        versions["agreed"] = self.detail.review.version
        return versions

    def row(self, competency_id: int) -> Row:
        for group in self.groups:
            for row in group.rows:
                if row.competency.id == competency_id:
                    return row
        raise KeyError(competency_id)


def build(detail: ReviewDetail, viewer: User, today: date, overdue_days: int) -> ReviewPage:
    ref = detail.referential

    def make_row(view: CompetencyView, statement: str) -> Row:
        return Row(
            competency=view,
            statement=statement,
            ratings={s: detail.ratings[s].get(view.id) for s in (*SOURCES, RatingSource.AGREED)},
            divergent=view.id in detail.divergences,
        )

    groups = [
        Group(
            b.code,
            b.title,
            b.title_en,
            tuple(make_row(i.competency, i.statement) for i in b.items if not i.transversal),
        )
        for b in ref.blocks
    ]
    transversal = [c for c in ref.competencies if c.is_transversal]
    if transversal:
        groups.append(Group("CT", "", "", tuple(make_row(c, c.statement) for c in transversal)))
    roles = frozenset(roles_of(viewer, detail.apprenticeship))
    is_open = not detail.review.is_locked
    signed = {s.role for s in detail.active_signatures}
    return ReviewPage(
        detail=detail,
        groups=tuple(groups),
        viewer_roles=roles,
        editable_sources=frozenset(RatingSource(r.value) for r in roles)
        if is_open
        else frozenset(),
        can_edit_agreed=is_open and bool(roles),
        sign_roles=tuple(
            r
            for r in (Party.APPRENTICE, Party.TUTOR, Party.SUPERVISOR)
            if r in roles and RatingSource(r.value) not in signed and is_open
        ),
        can_reopen=viewer.is_admin and detail.review.is_locked,
        verification=review_service.verify(detail),
        state=review_service.review_state(detail.review, today),
        overdue=review_service.is_overdue(detail.review, today, overdue_days),
    )


def load(
    session: Session,
    settings: Settings,
    viewer: User,
    apprenticeship_id: int,
    semester: int,
    today: date,
) -> ReviewPage:
    detail = review_service.load_detail(session, viewer, apprenticeship_id, semester)
    return build(detail, viewer, today, settings.review_overdue_days)


def parse_level(raw: str) -> tuple[int | None, bool]:
    """Form value -> (level, not_observed): "" clears, "na" is "not observed"."""
    raw = raw.strip()
    if raw == "":
        return None, False
    if raw == "na":
        return None, True
    if raw.isdigit() and len(raw) <= 3:
        return int(raw), False
    raise InvalidInput("Choose a level from the list.", field_errors={"level": "invalid"})
