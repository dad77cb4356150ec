"""The access policy: who may see and act on which apprenticeship."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Apprenticeship, Party
from app.services import access
from app.services.errors import Forbidden, NotFound
from tests.helpers import Personas


def _visible_ids(db: Session, user) -> set[int]:
    return set(
        db.scalars(select(Apprenticeship.id).where(access.visible_apprenticeships_filter(user)))
    )


def test_admin_sees_everything(db: Session, personas: Personas) -> None:
    p = personas
    assert access.can_view(p.admin, p.apprenticeship_a)
    assert {p.apprenticeship_a.id, p.apprenticeship_b.id} <= _visible_ids(db, p.admin)


@pytest.mark.parametrize(
    ("who", "role"),
    [
        ("apprentice_a", Party.APPRENTICE),
        ("tutor_a", Party.TUTOR),
        ("supervisor_a", Party.SUPERVISOR),
    ],
)
def test_each_party_sees_only_their_own_apprenticeship(
    db: Session, personas: Personas, who: str, role: Party
) -> None:
    user = getattr(personas, who)
    assert access.roles_of(user, personas.apprenticeship_a) == {role}
    assert access.can_view(user, personas.apprenticeship_a)
    assert not access.can_view(user, personas.apprenticeship_b)
    assert _visible_ids(db, user) == {personas.apprenticeship_a.id}


def test_outsider_sees_nothing(db: Session, personas: Personas) -> None:
    assert _visible_ids(db, personas.outsider) == set()
    with pytest.raises(NotFound):
        access.get_visible_apprenticeship(db, personas.outsider, personas.apprenticeship_a.id)


def test_tutor_of_other_apprentice_gets_not_found(db: Session, personas: Personas) -> None:
    with pytest.raises(NotFound):
        access.get_visible_apprenticeship(db, personas.tutor_b, personas.apprenticeship_a.id)


def test_deactivated_party_sees_nothing(db: Session, personas: Personas) -> None:
    personas.tutor_a.is_active = False
    assert _visible_ids(db, personas.tutor_a) == set()


def test_visible_but_forbidden_action_is_forbidden(personas: Personas) -> None:
    p = personas
    access.require_party(p.tutor_a, p.apprenticeship_a, Party.TUTOR)
    with pytest.raises(Forbidden):
        access.require_party(p.apprentice_a, p.apprenticeship_a, Party.TUTOR)
    with pytest.raises(Forbidden):
        access.require_party(p.admin, p.apprenticeship_a, Party.SUPERVISOR)  # admins hold no party


def test_only_admins_administer(personas: Personas) -> None:
    access.require_admin(personas.admin)
    for user in (personas.apprentice_a, personas.tutor_a, personas.supervisor_a):
        with pytest.raises(Forbidden):
            access.require_admin(user)
