"""What the review page shows: competencies grouped by block, the three columns, the agreed
level, who may edit what, the signature panel and the verification badge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.config import Settings
from app.models import CompetencyRating, Party, RatingSource, User
from app.services import validation
from app.services.access import roles_of
from app.services.errors import InvalidInput
from app.services.referentials.views import CompetencyView
from app.services.reviews import rules
from app.services.reviews.detail import ReviewDetail, load_detail
from app.services.reviews.rules import ReviewState
from app.services.reviews.signed_content import Verification

# The parties' columns, in the order the page shows them.
SOURCES = tuple(RatingSource.of(p) for p in rules.PARTIES)


@dataclass(frozen=True)
class Row:
    competency: CompetencyView
    statement: str
    ratings: dict[RatingSource, CompetencyRating | None]
    divergent: bool

    @property
    def party_columns(self) -> list[tuple[RatingSource, CompetencyRating | None]]:
        """The three parties' ratings, in the page's column order."""
        return [(source, self.ratings[source]) for source in SOURCES]

    @property
    def agreed(self) -> CompetencyRating | None:
        return self.ratings[RatingSource.AGREED]


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
    sign_roles: tuple[Party, ...]  # roles the viewer may sign in now
    # The viewer could sign once every competency has an agreed level.
    signing_awaits_agreement: bool
    can_reopen: bool
    verification: Verification
    state: ReviewState
    overdue: bool

    @property
    def versions(self) -> dict[str, int]:
        versions = {
            p.value: (a.version if (a := self.detail.assessments.get(p)) else 0)
            for p in rules.PARTIES
        }
        versions["agreed"] = self.detail.review.version
        return versions

    def row(self, competency_id: int) -> Row:
        for group in self.groups:
            for row in group.rows:
                if row.competency.id == competency_id:
                    return row
        raise KeyError(competency_id)


def groups_of(detail: ReviewDetail) -> tuple[Group, ...]:
    """Competencies by block, then the transversal ones (the page's and the livret's rows)."""
    ref = detail.referential
    divergent = detail.divergences
    columns = (*SOURCES, RatingSource.AGREED)

    def make_row(view: CompetencyView, statement: str) -> Row:
        return Row(
            competency=view,
            statement=statement,
            ratings={s: detail.ratings[s].get(view.id) for s in columns},
            divergent=view.id in divergent,
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
    return tuple(groups)


def build(detail: ReviewDetail, viewer: User, today: date, overdue_days: int) -> ReviewPage:
    roles = frozenset(roles_of(viewer, detail.apprenticeship))
    locked = detail.review.is_locked
    blockers_by_role = {r: detail.sign_blockers(set(roles), r) for r in rules.PARTIES}
    return ReviewPage(
        detail=detail,
        groups=groups_of(detail),
        viewer_roles=roles,
        editable_sources=frozenset(
            RatingSource.of(p) for p in rules.editable_parties(roles, locked=locked)
        ),
        can_edit_agreed=rules.may_edit_agreed(roles, locked=locked),
        sign_roles=tuple(r for r, blockers in blockers_by_role.items() if not blockers),
        signing_awaits_agreement=any(
            blockers == (rules.SignBlocker.AGREED_INCOMPLETE,)
            for blockers in blockers_by_role.values()
        ),
        can_reopen=viewer.is_admin and locked,
        verification=detail.verification(),
        state=rules.review_state(detail.review, today),
        overdue=rules.is_overdue(detail.review, today, overdue_days),
    )


def load(
    session: Session,
    settings: Settings,
    viewer: User,
    apprenticeship_id: int,
    semester: int,
    today: date,
) -> ReviewPage:
    detail = load_detail(session, viewer, apprenticeship_id, semester)
    return build(detail, viewer, today, settings.review_overdue_days)


def parse_level(raw: str) -> tuple[int | None, bool]:
    """Form value -> (level, not_observed): "" clears, "na" is "not observed"."""
    raw = raw.strip()
    if raw == "":
        return None, False
    if raw == "na":
        return None, True
    level = validation.ascii_int(raw, max_digits=3)
    if level is not None:
        return level, False
    raise InvalidInput("Choose a level from the list.", field_errors={"level": "invalid"})
