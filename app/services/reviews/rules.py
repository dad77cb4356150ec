"""The rules of semester reviews, each in one place: what state a review is in, when it is
overdue, when two levels diverge, when the agreed content is complete, who may edit what, who
may sign now, and when the signatures lock the review.

Every caller (the workflow, the review page, the home to-do list, the dashboard, progress, the
API, the emailed sign codes, the exports) uses these functions. Call them through the module
(``rules.is_overdue(...)``), so the rule is read where it is defined.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, func, or_

from app.i18n import N_
from app.models import CompetencyRating, Party, SemesterReview

# The parties who assess and sign, in the order pages show them.
PARTIES: tuple[Party, ...] = (Party.APPRENTICE, Party.TUTOR, Party.SUPERVISOR)
# The apprentice's and the tutor's levels for a competency diverge at this gap or more.
DIVERGENCE_GAP = 2
# Text limits (schemas, forms and the workflow all use these).
COMMENT_MAX = 5000
SUMMARY_MAX = 20000
REASON_MAX = COMMENT_MAX


# --- States -----------------------------------------------------------------------------------


class ReviewState(enum.StrEnum):
    UPCOMING = "upcoming"
    PENDING = "pending"
    LOCKED = "locked"

    @property
    def label(self) -> str:
        """A msgid for people (translate it where it is shown)."""
        return _STATE_LABELS[self]


_STATE_LABELS = {
    ReviewState.UPCOMING: N_("upcoming"),
    ReviewState.PENDING: N_("pending"),
    ReviewState.LOCKED: N_("signed and locked"),
}


class ReviewDates(Protocol):
    """What the state of a review depends on (an ORM row or a lighter record)."""

    @property
    def starts_on(self) -> date: ...
    @property
    def ends_on(self) -> date: ...
    @property
    def is_locked(self) -> bool: ...


class ReviewRow(NamedTuple):
    """The columns of a semester review that the rules and progress read (lighter than the
    ORM row)."""

    id: int
    apprenticeship_id: int
    semester: int
    starts_on: date
    ends_on: date
    locked_at: datetime | None
    version: int

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @staticmethod
    def columns() -> list[Any]:
        """The columns to select for it, in its order."""
        return [
            SemesterReview.id,
            SemesterReview.apprenticeship_id,
            SemesterReview.semester,
            SemesterReview.starts_on,
            SemesterReview.ends_on,
            SemesterReview.locked_at,
            SemesterReview.version,
        ]


def review_state(review: ReviewDates, today: date) -> ReviewState:
    if review.is_locked:
        return ReviewState.LOCKED
    if review.starts_on > today:
        return ReviewState.UPCOMING
    return ReviewState.PENDING


def is_overdue(review: ReviewDates, today: date, overdue_days: int) -> bool:
    """A review not locked ``overdue_days`` after its semester ended is overdue."""
    return not review.is_locked and (today - review.ends_on).days > overdue_days


def overdue_ended_before(today: date, overdue_days: int, *, extra_days: int = 0) -> date:
    """The same rule for SQL: an open review whose semester ended before this date is overdue
    (by more than ``extra_days`` with that argument)."""
    return today - timedelta(days=overdue_days + extra_days)


# --- Divergences ------------------------------------------------------------------------------


def is_divergent(apprentice_level: int | None, tutor_level: int | None) -> bool:
    return (
        apprentice_level is not None
        and tutor_level is not None
        and abs(apprentice_level - tutor_level) >= DIVERGENCE_GAP
    )


def divergence_condition(apprentice: Any, tutor: Any) -> ColumnElement[bool]:
    """The same rule for SQL, over two aliases of ``CompetencyRating`` (NULL levels never
    diverge, as in :func:`is_divergent`)."""
    return func.abs(apprentice.level - tutor.level) >= DIVERGENCE_GAP


def divergent_competencies(
    apprentice: dict[int, CompetencyRating], tutor: dict[int, CompetencyRating]
) -> set[int]:
    """Competencies where the apprentice's and the tutor's levels diverge."""
    return {
        competency_id
        for competency_id, mine in apprentice.items()
        if (theirs := tutor.get(competency_id)) is not None
        and is_divergent(mine.level, theirs.level)
    }


# --- The agreed content -----------------------------------------------------------------------


def is_filled(level: int | None, not_observed: bool) -> bool:
    """An agreed rating counts once it has a level or says "not observed"."""
    return level is not None or bool(not_observed)


def filled_condition() -> ColumnElement[bool]:
    """The same rule for SQL, over ``CompetencyRating``."""
    return or_(CompetencyRating.level.is_not(None), CompetencyRating.not_observed.is_(True))


def agreed_is_complete(filled: Iterable[int], required: Collection[int]) -> bool:
    """Every competency of the referential (``required``) has a filled agreed rating."""
    return set(required) <= set(filled)


# --- Who may do what --------------------------------------------------------------------------


def editable_parties(roles: Collection[Party], *, locked: bool) -> frozenset[Party]:
    """Whose assessment the viewer may edit: their own, while the review is open."""
    return frozenset() if locked else frozenset(roles)


def may_edit_agreed(roles: Collection[Party], *, locked: bool) -> bool:
    """Any of the three parties edits the agreed content while the review is open."""
    return not locked and any(p in PARTIES for p in roles)


class SignBlocker(enum.StrEnum):
    """Why a person may not sign a review in a role now."""

    NOT_PARTY = "not_party"
    LOCKED = "locked"
    AGREED_INCOMPLETE = "agreed_incomplete"
    ALREADY_SIGNED = "already_signed"

    @property
    def message(self) -> str:
        return _BLOCKER_MESSAGES[self]


_BLOCKER_MESSAGES = {
    SignBlocker.NOT_PARTY: N_("You do not hold this role in this apprenticeship."),
    SignBlocker.LOCKED: N_("This review is signed and locked; it can no longer be changed."),
    SignBlocker.AGREED_INCOMPLETE: N_(
        'Every competency needs an agreed level (or "not observed") before signing.'
    ),
    SignBlocker.ALREADY_SIGNED: N_("This review is already signed in this role."),
}


def sign_blockers(
    role: Party,
    *,
    roles: Collection[Party],
    locked: bool,
    agreed_complete: bool,
    signed_roles: Collection[Party],
) -> tuple[SignBlocker, ...]:
    """Everything that stops a person holding ``roles`` from signing in ``role`` now; empty
    when they may sign (proving their identity is the workflow's business)."""
    blockers = []
    if role not in roles:
        blockers.append(SignBlocker.NOT_PARTY)
    if locked:
        blockers.append(SignBlocker.LOCKED)
    if not agreed_complete:
        blockers.append(SignBlocker.AGREED_INCOMPLETE)
    if role in signed_roles:
        blockers.append(SignBlocker.ALREADY_SIGNED)
    return tuple(blockers)


def locks_review(signed_roles: Collection[Party]) -> bool:
    """The third party's signature locks the review."""
    return set(PARTIES) <= set(signed_roles)
