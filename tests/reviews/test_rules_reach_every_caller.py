"""Each review rule lives in app/services/reviews/rules.py, and changing it there changes the
review page, the dashboard, the to-do list and the API together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Apprenticeship, Party, User
from app.services.errors import Conflict
from app.services.pages import dashboard, todos
from app.services.referentials.views import referential_for
from app.services.reviews import page as review_page
from app.services.reviews import rules, sign_codes
from app.services.reviews import workflow as review_workflow
from app.services.reviews.workflow import RatingInput
from app.services.school.apprenticeships import get as get_apprenticeship
from tests.factories import make_apprenticeship, make_user
from tests.helpers import bearer

TODAY = date.today()
API = "/api/v1/apprenticeships/{id}/reviews/1"


@dataclass
class Trio:
    apprenticeship: Apprenticeship
    apprentice: User
    tutor: User
    supervisor: User
    competencies: list[int]


@pytest.fixture
def trio(db: Session) -> Trio:
    """An apprenticeship whose first semester is under way (whatever today's date)."""
    people = [make_user(db) for _ in range(3)]
    appr = make_apprenticeship(
        db,
        apprentice=people[0],
        tutor=people[1],
        supervisor=people[2],
        starts_on=TODAY - timedelta(days=30),
        ends_on=TODAY + timedelta(days=3 * 365),
    )
    appr = get_apprenticeship(db, people[0], appr.id)
    ids = [c.id for c in referential_for(db, appr.cohort.certification).competencies]
    return Trio(appr, *people, ids)


def _assess(db: Session, trio: Trio, who: User, party: Party, levels: dict[int, int]) -> None:
    review_workflow.save_assessment(
        db,
        who,
        trio.apprenticeship.id,
        1,
        party,
        version=0,
        ratings=[RatingInput(cid, level) for cid, level in levels.items()],
    )


def _page(db: Session, settings: Settings, trio: Trio, viewer: User) -> review_page.ReviewPage:
    return review_page.load(db, settings, viewer, trio.apprenticeship.id, 1, TODAY)


def _dashboard_row(db: Session, settings: Settings, trio: Trio) -> dashboard.Row:
    board = dashboard.build(
        db,
        settings,
        trio.supervisor,
        dashboard.Filters(cohort_id=trio.apprenticeship.cohort_id),
        TODAY,
    )
    [row] = [r for r in board.rows if r.apprenticeship.id == trio.apprenticeship.id]
    return row


def _todo(db: Session, settings: Settings, trio: Trio, who: User) -> todos.ReviewTodo:
    found = todos.todos(db, who, [trio.apprenticeship], TODAY, settings.review_overdue_days)
    [review] = [r for r in found[trio.apprenticeship.id].reviews if r.semester == 1]
    return review


def _api_review(client: TestClient, db: Session, trio: Trio, who: User) -> dict:
    response = client.get(API.format(id=trio.apprenticeship.id), headers=bearer(db, who))
    assert response.status_code == 200
    return response.json()


# --- The divergence gap -----------------------------------------------------------------------


def test_the_divergence_gap_changes_the_page_the_dashboard_and_the_api_together(
    client: TestClient, db: Session, settings: Settings, trio: Trio, monkeypatch
) -> None:
    first = trio.competencies[0]
    _assess(db, trio, trio.apprentice, Party.APPRENTICE, {first: 3})
    _assess(db, trio, trio.tutor, Party.TUTOR, {first: 2})  # one level apart

    def seen() -> tuple[bool, int, bool]:
        page = _page(db, settings, trio, trio.supervisor)
        api = _api_review(client, db, trio, trio.supervisor)
        [row] = [c for c in api["competencies"] if c["competency_id"] == first]
        return (
            page.row(first).divergent,
            _dashboard_row(db, settings, trio).divergences,
            row["divergent"],
        )

    assert rules.DIVERGENCE_GAP == 2
    assert seen() == (False, 0, False)
    monkeypatch.setattr(rules, "DIVERGENCE_GAP", 1)
    assert seen() == (True, 1, True)


# --- The overdue rule -------------------------------------------------------------------------


def test_the_overdue_rule_changes_the_page_the_dashboard_the_todos_and_the_api_together(
    client: TestClient, db: Session, settings: Settings, trio: Trio, monkeypatch
) -> None:
    def seen() -> tuple[bool, bool, bool, bool]:
        api = _api_review(client, db, trio, trio.tutor)
        return (
            _page(db, settings, trio, trio.tutor).overdue,
            _dashboard_row(db, settings, trio).overdue,
            _todo(db, settings, trio, trio.tutor).overdue,
            api["overdue"],
        )

    assert seen() == (False, False, False, False)  # a month into the semester
    monkeypatch.setattr(rules, "is_overdue", lambda review, today, days: not review.is_locked)
    assert seen() == (True, True, True, True)


# --- Who may sign now -------------------------------------------------------------------------


def _agree_everything(db: Session, trio: Trio) -> None:
    review_workflow.save_agreed(
        db,
        trio.tutor,
        trio.apprenticeship.id,
        1,
        version=1,
        ratings=[RatingInput(cid, 3) for cid in trio.competencies],
    )


def test_the_signing_rule_changes_the_page_the_todos_the_api_and_the_sign_codes_together(
    client: TestClient, db: Session, settings: Settings, trio: Trio, monkeypatch
) -> None:
    _agree_everything(db, trio)
    assert _page(db, settings, trio, trio.tutor).sign_roles == (Party.TUTOR,)
    assert _todo(db, settings, trio, trio.tutor).sign is True

    monkeypatch.setattr(rules, "sign_blockers", lambda *args, **kwargs: (rules.SignBlocker.LOCKED,))
    assert _page(db, settings, trio, trio.tutor).sign_roles == ()
    assert _todo(db, settings, trio, trio.tutor).sign is False
    response = client.post(
        API.format(id=trio.apprenticeship.id) + "/signatures",
        json={"role": "tutor", "password": "correct horse battery"},
        headers=bearer(db, trio.tutor),
    )
    assert response.status_code == 409
    with pytest.raises(Conflict):
        sign_codes.send_sign_code(
            db, settings, trio.tutor, trio.apprenticeship.id, 1, Party.TUTOR, auth_method="link"
        )


def test_the_todo_list_offers_signing_only_when_signing_is_accepted(
    db: Session, settings: Settings, trio: Trio
) -> None:
    """It used to say "sign" as soon as the agreed content had been touched."""
    review_workflow.save_agreed(
        db,
        trio.tutor,
        trio.apprenticeship.id,
        1,
        version=1,
        ratings=[RatingInput(trio.competencies[0], 3)],  # one competency of many
    )
    assert _todo(db, settings, trio, trio.tutor).sign is False
    assert _page(db, settings, trio, trio.tutor).sign_roles == ()
    assert _page(db, settings, trio, trio.tutor).signing_awaits_agreement is True


# --- The rules themselves ---------------------------------------------------------------------


def test_sign_blockers_name_every_reason() -> None:
    everyone = set(rules.PARTIES)
    assert (
        rules.sign_blockers(
            Party.TUTOR, roles=everyone, locked=False, agreed_complete=True, signed_roles=set()
        )
        == ()
    )
    assert rules.sign_blockers(
        Party.TUTOR,
        roles={Party.APPRENTICE},
        locked=True,
        agreed_complete=False,
        signed_roles={Party.TUTOR},
    ) == (
        rules.SignBlocker.NOT_PARTY,
        rules.SignBlocker.LOCKED,
        rules.SignBlocker.AGREED_INCOMPLETE,
        rules.SignBlocker.ALREADY_SIGNED,
    )


def test_the_third_signature_locks() -> None:
    assert not rules.locks_review({Party.APPRENTICE, Party.TUTOR})
    assert rules.locks_review(set(rules.PARTIES))


def test_review_states_and_the_overdue_rule() -> None:
    @dataclass
    class Dates:
        starts_on: date
        ends_on: date
        is_locked: bool = False

    today = date(2026, 12, 1)
    running = Dates(date(2026, 9, 1), date(2027, 2, 28))
    assert rules.review_state(running, today) is rules.ReviewState.PENDING
    assert rules.review_state(Dates(date(2027, 3, 1), date(2027, 8, 31)), today) is (
        rules.ReviewState.UPCOMING
    )
    assert rules.review_state(Dates(today, today, True), today) is rules.ReviewState.LOCKED
    ended = Dates(date(2026, 3, 1), date(2026, 10, 31))
    assert rules.is_overdue(ended, today, 30) is True
    assert rules.is_overdue(ended, today, 31) is False
    assert rules.is_overdue(Dates(ended.starts_on, ended.ends_on, True), today, 0) is False
    assert rules.overdue_ended_before(today, 30) == date(2026, 11, 1)


def test_divergence_needs_two_levels_and_the_gap() -> None:
    assert rules.is_divergent(1, 3) and rules.is_divergent(4, 2)
    assert not rules.is_divergent(2, 3)
    assert not rules.is_divergent(None, 4) and not rules.is_divergent(1, None)
