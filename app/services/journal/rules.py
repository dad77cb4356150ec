"""The rules of the work-situation journal, each in one place: how long its texts may be, who
may change a situation in which state, and when a draft counts as sent back by the tutor.

Lifecycle::

    draft --submit (apprentice)--> submitted --acknowledge (tutor)--> acknowledged
      ^                                |
      +----request_changes (tutor)-----+
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, func

from app.i18n import N_
from app.models import Party, SituationStatus, WorkSituation

TITLE_MAX = 200
TEXT_MAX = 20_000
COMMENT_MAX = 5_000
COMPETENCIES_MAX = 50
PAGE_MAX = 200
SEARCH_MAX = 100
TEXT_FIELDS = ("context", "actions", "results", "learnings")
CODE_PATTERN = r"^[A-Za-z0-9_.-]{1,40}$"  # competency and block codes

ONLY_DRAFTS = N_("Only a draft work situation can be changed, deleted or submitted.")
ONLY_SUBMITTED = N_("Only a submitted work situation can be acknowledged or sent back.")


def is_editable(status: SituationStatus) -> bool:
    """A situation (and its evidence files) can be changed, deleted or submitted as a draft."""
    return status is SituationStatus.DRAFT


def may_edit(roles: Collection[Party], status: SituationStatus) -> bool:
    """The apprentice edits, deletes and submits their drafts, and attaches files to them."""
    return Party.APPRENTICE in roles and is_editable(status)


def is_awaiting_the_tutor(status: SituationStatus) -> bool:
    return status is SituationStatus.SUBMITTED


def may_review(roles: Collection[Party], status: SituationStatus) -> bool:
    """The tutor acknowledges a submitted situation, or sends it back with a comment."""
    return Party.TUTOR in roles and is_awaiting_the_tutor(status)


def is_sent_back(situation: WorkSituation) -> bool:
    """A draft with the tutor's comment: the tutor asked for changes."""
    return is_editable(situation.status) and bool(situation.tutor_comment)


# A submitted situation the tutor has not read for this long is flagged to the supervisor.
TUTOR_WAIT_DAYS = 14


def waiting_too_long_condition(today: date) -> ColumnElement[bool]:
    """SQL over ``WorkSituation``: submitted more than :data:`TUTOR_WAIT_DAYS` days ago and
    still waiting for the tutor."""
    cutoff = datetime.combine(today - timedelta(days=TUTOR_WAIT_DAYS), time.min, tzinfo=UTC)
    return and_(
        WorkSituation.status == SituationStatus.SUBMITTED, WorkSituation.submitted_at < cutoff
    )


def sent_back_condition() -> ColumnElement[bool]:
    """The same rule for SQL, over ``WorkSituation``."""
    return and_(
        WorkSituation.status == SituationStatus.DRAFT,
        func.length(WorkSituation.tutor_comment) > 0,
    )
