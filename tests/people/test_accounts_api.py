"""Accounts over the API (administrators), and the account change service behind it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, User
from app.services.errors import Conflict, Forbidden
from app.services.people import accounts
from app.services.validation import FieldErrors
from tests.factories import make_user
from tests.helpers import Personas, bearer, count_rows

API = "/api/v1"


# --- The service ------------------------------------------------------------------------------


def test_update_user_changes_the_fields_and_audits_before_and_after(
    db: Session, personas: Personas
) -> None:
    person = personas.tutor_a
    old_email = person.email
    accounts.update_user(
        db,
        personas.admin,
        person.id,
        accounts.UserUpdate(
            email=" New.Tutor@Test.example ", full_name="  Thomas   Neuf ", locale="en"
        ),
    )
    assert (person.email, person.full_name, person.locale) == (
        "new.tutor@test.example",
        "Thomas Neuf",
        "en",
    )
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.update")).one()
    assert event.entity_id == str(person.id)
    assert event.details["before"]["email"] == old_email
    assert event.details["after"] == {
        "email": "new.tutor@test.example",
        "full_name": "Thomas Neuf",
        "locale": "en",
    }


def test_update_user_without_a_change_writes_nothing(db: Session, personas: Personas) -> None:
    person = personas.tutor_a
    accounts.update_user(
        db, personas.admin, person.id, accounts.UserUpdate(full_name=person.full_name)
    )
    assert count_rows(db, AuditEvent, AuditEvent.action == "user.update") == 0


def test_update_user_checks_like_create(db: Session, personas: Personas) -> None:
    with pytest.raises(FieldErrors) as caught:
        accounts.update_user(
            db,
            personas.admin,
            personas.tutor_a.id,
            accounts.UserUpdate(email="not an email", full_name="", locale="de"),
        )
    assert set(caught.value.messages) == {"email", "full_name", "locale"}


def test_update_user_refuses_a_taken_email(db: Session, personas: Personas) -> None:
    with pytest.raises(Conflict):
        accounts.update_user(
            db,
            personas.admin,
            personas.tutor_a.id,
            accounts.UserUpdate(email=personas.tutor_b.email.upper()),
        )


def test_an_admin_cannot_remove_their_own_flag(db: Session, personas: Personas) -> None:
    admin = personas.admin
    with pytest.raises(FieldErrors) as caught:
        accounts.update_user(db, admin, admin.id, accounts.UserUpdate(is_admin=False))
    assert set(caught.value.messages) == {"is_admin"}
    assert admin.is_admin
    other = make_user(db, is_admin=True)
    accounts.update_user(db, admin, other.id, accounts.UserUpdate(is_admin=False))
    assert not other.is_admin


def test_only_admins_update_accounts(db: Session, personas: Personas) -> None:
    with pytest.raises(Forbidden):
        accounts.update_user(
            db, personas.supervisor_a, personas.tutor_a.id, accounts.UserUpdate(full_name="X")
        )


# --- The API ----------------------------------------------------------------------------------


def test_users_are_listed_searched_and_paged(
    client: TestClient, db: Session, personas: Personas
) -> None:
    admin = bearer(db, personas.admin)
    found = client.get(f"{API}/users", params={"q": "responsable"}, headers=admin).json()
    assert [u["full_name"] for u in found["items"]] == ["Serge Responsable", "Sophie Responsable"]
    assert found["total"] == 2 and found["pages"] == 1
    everyone = client.get(f"{API}/users", params={"page": 99}, headers=admin).json()
    assert everyone["page"] == everyone["pages"] == 1  # past the end: the last page


def test_an_account_is_created_and_shows_its_roles(
    client: TestClient, db: Session, personas: Personas
) -> None:
    admin = bearer(db, personas.admin)
    response = client.post(
        f"{API}/users",
        json={"email": "Nouvelle@Test.example", "full_name": "Nouvelle Personne", "locale": "en"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "nouvelle@test.example" and not body["has_password"]
    assert body["apprenticeships"] == [] and not body["is_admin"]
    again = client.post(
        f"{API}/users", json={"email": "nouvelle@test.example", "full_name": "X"}, headers=admin
    )
    assert again.status_code == 409
    weak = client.post(
        f"{API}/users",
        json={"email": "weak@test.example", "full_name": "W", "password": "password"},
        headers=admin,
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"

    tutor = client.get(f"{API}/users/{personas.tutor_a.id}", headers=admin).json()
    assert tutor["apprenticeships"] == [
        {"apprenticeship_id": personas.apprenticeship_a.id, "roles": ["tutor"]}
    ]
    assert client.get(f"{API}/users/{personas.admin.id}", headers=admin).json()["is_admin"]


def test_an_account_is_changed_over_the_api(
    client: TestClient, db: Session, personas: Personas
) -> None:
    admin = bearer(db, personas.admin)
    url = f"{API}/users/{personas.tutor_a.id}"
    response = client.patch(
        url, json={"full_name": "Thomas Autre", "is_admin": True}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Thomas Autre" and response.json()["is_admin"]
    taken = client.patch(url, json={"email": personas.tutor_b.email}, headers=admin)
    assert taken.status_code == 409
    unknown_field = client.patch(url, json={"is_active": False}, headers=admin)
    assert unknown_field.status_code == 422  # deactivation is not a field of this change
    own = client.patch(f"{API}/users/{personas.admin.id}", json={"is_admin": False}, headers=admin)
    assert own.status_code == 422 and own.json()["errors"][0]["field"] == "is_admin"
    db.refresh(personas.admin)
    assert personas.admin.is_admin
    missing = client.patch(f"{API}/users/2000000000", json={"full_name": "X"}, headers=admin)
    assert missing.status_code == 404


def test_non_admins_neither_read_nor_change_accounts(
    client: TestClient, db: Session, personas: Personas
) -> None:
    headers = bearer(db, personas.tutor_a)
    before = count_rows(db, User)
    assert client.get(f"{API}/users", headers=headers).status_code == 403
    assert client.get(f"{API}/users/{personas.tutor_a.id}", headers=headers).status_code == 403
    own = client.patch(
        f"{API}/users/{personas.tutor_a.id}", json={"is_admin": True}, headers=headers
    )
    assert own.status_code == 403
    created = client.post(
        f"{API}/users", json={"email": "x@test.example", "full_name": "X"}, headers=headers
    )
    assert created.status_code == 403
    assert count_rows(db, User) == before and not personas.tutor_a.is_admin
