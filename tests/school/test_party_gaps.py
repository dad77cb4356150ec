"""Which apprenticeships are active, and which ones a person would leave without their role
(school.rules.is_active, school.apprenticeships.contracts_left_without), and handing a tutor
or supervisor over (replace_party)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Party
from app.services.errors import Forbidden
from app.services.school import apprenticeships as apprenticeship_service
from app.services.school import rules
from app.services.validation import FieldErrors
from tests.factories import make_apprenticeship, make_user
from tests.helpers import Personas

TODAY = date(2026, 3, 15)


@pytest.mark.parametrize(
    ("ends_on", "active"),
    [(date(2026, 3, 14), False), (TODAY, True), (date(2028, 8, 31), True)],
)
def test_an_apprenticeship_is_active_until_its_end_date_has_passed(ends_on, active) -> None:
    assert rules.is_active(ends_on, TODAY) is active


def test_one_that_has_not_started_yet_is_active() -> None:
    assert rules.is_active(date(2027, 8, 31), date(2026, 1, 1))


def test_contracts_left_without_a_person_in_each_role(db: Session, personas: Personas) -> None:
    p = personas
    gaps = apprenticeship_service.contracts_left_without
    assert [(g.apprenticeship.id, g.role) for g in gaps(db, p.tutor_a, TODAY)] == [
        (p.apprenticeship_a.id, Party.TUTOR)
    ]
    assert [(g.apprenticeship.id, g.role) for g in gaps(db, p.supervisor_b, TODAY)] == [
        (p.apprenticeship_b.id, Party.SUPERVISOR)
    ]
    [apprentice] = gaps(db, p.apprentice_a, TODAY)
    assert apprentice.role is Party.APPRENTICE and not apprentice.replaceable
    assert gaps(db, p.outsider, TODAY) == []


def test_ended_apprenticeships_are_not_left_without_anyone(db: Session, personas: Personas) -> None:
    p = personas
    ended = make_apprenticeship(
        db,
        tutor=p.outsider,
        starts_on=date(2022, 9, 1),
        ends_on=date(2025, 8, 31),
    )
    current = make_apprenticeship(db, supervisor=p.outsider)
    found = apprenticeship_service.contracts_left_without(db, p.outsider, TODAY)
    assert [(g.apprenticeship.id, g.role) for g in found] == [(current.id, Party.SUPERVISOR)]
    assert ended.id not in {g.apprenticeship.id for g in found}


def test_replace_party_keeps_the_other_party_and_is_audited(db: Session, personas: Personas):
    p = personas
    appr = apprenticeship_service.replace_party(
        db, p.admin, p.apprenticeship_a.id, Party.TUTOR, p.tutor_b.email
    )
    assert appr.tutor_id == p.tutor_b.id and appr.supervisor_id == p.supervisor_a.id
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "apprenticeship.parties")
    ).one()
    assert event.details["after"] == {"tutor": p.tutor_b.email, "supervisor": p.supervisor_a.email}


def test_replace_party_goes_through_the_parties_safeguards(db: Session, personas: Personas):
    p = personas
    inactive = make_user(db, is_active=False)
    for email, message in (
        (inactive.email, "This account is deactivated."),
        (
            p.supervisor_a.email,
            "The apprentice, the tutor and the supervisor must be three people.",
        ),
        ("nobody@test.example", "No account with this email: create it first."),
    ):
        with pytest.raises(FieldErrors) as caught:
            apprenticeship_service.replace_party(
                db, p.admin, p.apprenticeship_a.id, Party.TUTOR, email
            )
        assert caught.value.messages["email"][0] == message
    with pytest.raises(FieldErrors):
        apprenticeship_service.replace_party(
            db, p.admin, p.apprenticeship_a.id, Party.APPRENTICE, p.outsider.email
        )
    with pytest.raises(Forbidden):
        apprenticeship_service.replace_party(
            db, p.tutor_a, p.apprenticeship_a.id, Party.TUTOR, p.tutor_b.email
        )
    db.refresh(p.apprenticeship_a)
    assert p.apprenticeship_a.tutor_id == p.tutor_a.id
