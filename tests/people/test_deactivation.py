"""Deactivating an account that an active apprenticeship depends on: not without a
replacement or an explicit confirmation naming the contracts (accounts.set_active), on the
admin page and over the API, audited either way."""

from __future__ import annotations

import html
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Apprenticeship, AuditEvent, User
from app.services.errors import Conflict, Forbidden
from app.services.people import accounts
from app.services.validation import FieldErrors
from tests.factories import make_apprenticeship
from tests.helpers import HX, Personas, bearer, count_rows, login_as, post_form

API = "/api/v1/users"


def _events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _refreshed(db: Session, *rows: object) -> None:
    for row in rows:
        db.refresh(row)


# --- The service ------------------------------------------------------------------------------


def test_the_only_tutor_is_not_deactivated_without_a_decision(db, personas: Personas) -> None:
    p = personas
    with pytest.raises(Conflict) as caught:
        accounts.set_active(db, p.admin, p.tutor_a.id, False)
    assert caught.value.status_code == 409
    assert (
        f"#{p.apprenticeship_a.id} {p.apprentice_a.full_name}" in caught.value.params["contracts"]
    )
    assert caught.value.field_errors == {"confirm_apprenticeships": "unconfirmed"}
    _refreshed(db, p.tutor_a)
    assert p.tutor_a.is_active
    assert _events(db, "user.deactivate") == []


def test_the_confirmation_path_records_the_contracts_confirmed(db, personas: Personas) -> None:
    p = personas
    accounts.set_active(
        db, p.admin, p.tutor_a.id, False, confirm_apprenticeships=[p.apprenticeship_a.id]
    )
    _refreshed(db, p.tutor_a, p.apprenticeship_a)
    assert not p.tutor_a.is_active
    assert p.apprenticeship_a.tutor_id == p.tutor_a.id  # confirmed: it stays as it is
    [event] = _events(db, "user.deactivate")
    assert event.details["apprenticeships_confirmed"] == [p.apprenticeship_a.id]
    assert event.details["apprenticeships_replaced"] == []
    assert _events(db, "apprenticeship.parties") == []


def test_the_replacement_path_records_the_party_change_and_the_deactivation(
    db, personas: Personas
) -> None:
    p = personas
    accounts.set_active(
        db, p.admin, p.tutor_a.id, False, replacements={p.apprenticeship_a.id: p.tutor_b.email}
    )
    _refreshed(db, p.tutor_a, p.apprenticeship_a)
    assert not p.tutor_a.is_active
    assert p.apprenticeship_a.tutor_id == p.tutor_b.id
    [change] = _events(db, "apprenticeship.parties")
    assert change.entity_id == str(p.apprenticeship_a.id)
    assert change.details["before"]["tutor"] == p.tutor_a.email
    assert change.details["after"]["tutor"] == p.tutor_b.email
    [event] = _events(db, "user.deactivate")
    assert event.id > change.id
    assert event.details["apprenticeships_replaced"] == [
        {
            "apprenticeship_id": p.apprenticeship_a.id,
            "role": "tutor",
            "replacement": p.tutor_b.email,
        }
    ]
    assert event.details["apprenticeships_confirmed"] == []


def test_a_stale_confirmation_is_refused(db, personas: Personas) -> None:
    """The admin confirmed what the step showed; meanwhile the person became the supervisor of
    another apprenticeship: the confirmation no longer names every contract."""
    p = personas
    shown = [g.apprenticeship.id for g in accounts.deactivation_gaps(db, p.admin, p.tutor_a.id)]
    assert shown == [p.apprenticeship_a.id]
    later = make_apprenticeship(db, supervisor=p.tutor_a)
    with pytest.raises(Conflict) as caught:
        accounts.set_active(db, p.admin, p.tutor_a.id, False, confirm_apprenticeships=shown)
    assert f"#{later.id} " in caught.value.params["contracts"]
    _refreshed(db, p.tutor_a)
    assert p.tutor_a.is_active


def test_confirming_a_contract_that_no_longer_depends_on_them_is_refused(db, personas) -> None:
    p = personas
    p.apprenticeship_a.tutor = p.tutor_b  # someone else took over since the step was shown
    db.flush()
    with pytest.raises(Conflict):
        accounts.set_active(
            db, p.admin, p.tutor_a.id, False, confirm_apprenticeships=[p.apprenticeship_a.id]
        )
    accounts.set_active(db, p.admin, p.tutor_a.id, False)  # nothing depends on them now
    _refreshed(db, p.tutor_a)
    assert not p.tutor_a.is_active


def test_an_ended_apprenticeship_needs_no_decision(db, personas: Personas) -> None:
    p = personas
    make_apprenticeship(db, tutor=p.outsider, starts_on=date(2021, 9, 1), ends_on=date(2024, 8, 31))
    accounts.set_active(db, p.admin, p.outsider.id, False)
    _refreshed(db, p.outsider)
    assert not p.outsider.is_active


def test_an_apprentice_is_confirmed_never_replaced(db, personas: Personas) -> None:
    p = personas
    appr_id = p.apprenticeship_b.id
    with pytest.raises(FieldErrors) as caught:
        accounts.set_active(
            db, p.admin, p.apprentice_b.id, False, replacements={appr_id: p.outsider.email}
        )
    assert caught.value.messages[f"replacements.{appr_id}"][0] == (
        "An apprentice cannot be replaced."
    )
    accounts.set_active(db, p.admin, p.apprentice_b.id, False, confirm_apprenticeships=[appr_id])
    _refreshed(db, p.apprentice_b)
    assert not p.apprentice_b.is_active


def test_replacements_happen_all_or_none(db, personas: Personas) -> None:
    """Tutor of one apprenticeship and supervisor of another: a bad second replacement
    undoes the first, and the account stays active."""
    p = personas
    other = make_apprenticeship(db, supervisor=p.tutor_a)
    before = count_rows(db, AuditEvent)
    with pytest.raises(FieldErrors) as caught:
        accounts.set_active(
            db,
            p.admin,
            p.tutor_a.id,
            False,
            replacements={p.apprenticeship_a.id: p.tutor_b.email, other.id: "nobody@test.example"},
        )
    assert set(caught.value.messages) == {f"replacements.{other.id}"}
    _refreshed(db, p.tutor_a, p.apprenticeship_a)
    assert p.tutor_a.is_active and p.apprenticeship_a.tutor_id == p.tutor_a.id
    assert count_rows(db, AuditEvent) == before


def test_the_replacement_cannot_be_the_person_leaving(db, personas: Personas) -> None:
    p = personas
    with pytest.raises(FieldErrors):
        accounts.set_active(
            db,
            p.admin,
            p.tutor_a.id,
            False,
            replacements={p.apprenticeship_a.id: p.tutor_a.email.upper()},
        )


def test_only_admins_deactivate(db, personas: Personas) -> None:
    with pytest.raises(Forbidden):
        accounts.set_active(db, personas.supervisor_a, personas.outsider.id, False)


# --- The admin page ---------------------------------------------------------------------------


@pytest.fixture
def admin(client: TestClient, db: Session, settings: Settings, personas: Personas) -> TestClient:
    personas.admin.locale = "en"
    db.flush()
    login_as(client, db, settings, personas.admin)
    return client


def _text(response) -> str:
    return html.unescape(response.text)


def test_the_buttons_lead_to_the_step(admin, personas: Personas) -> None:
    p = personas
    step = f"/admin/users/{p.tutor_a.id}/deactivate"
    page = admin.get(f"/admin/users/{p.tutor_a.id}").text
    assert f'href="{step}"' in page and f'hx-get="{step}"' in page
    assert f'action="{step}"' not in page  # no direct POST
    listing = admin.get("/admin/users").text
    assert f'href="{step}"' in listing and f'action="{step}"' not in listing


def test_the_step_names_the_contracts_as_a_page_and_as_a_fragment(admin, db, personas) -> None:
    p = personas
    url = f"/admin/users/{p.tutor_a.id}/deactivate"
    full = admin.get(url)
    assert full.status_code == 200 and "<html" in full.text
    assert full.headers["Vary"] == "HX-Request"
    text = _text(full)
    assert f"#{p.apprenticeship_a.id} {p.apprentice_a.full_name}" in text
    assert f'name="confirm_apprenticeships" type="checkbox" value="{p.apprenticeship_a.id}"' in text
    assert 'name="replacement_email"' in text and f'action="{url}"' in text
    fragment = admin.get(url, headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert '<section id="access"' in fragment.text
    assert "autofocus" in fragment.text and "autofocus" not in full.text  # focus after a swap
    db.refresh(p.tutor_a)
    assert p.tutor_a.is_active  # looking writes nothing


def test_the_step_of_an_apprentice_offers_only_the_confirmation(admin, personas) -> None:
    text = _text(admin.get(f"/admin/users/{personas.apprentice_b.id}/deactivate"))
    assert "An apprentice cannot be replaced" in text and 'name="replacement_email"' not in text


def test_the_page_refuses_without_a_decision_and_names_the_contracts(
    admin, db, settings, personas
) -> None:
    p = personas
    url = f"/admin/users/{p.tutor_a.id}/deactivate"
    response = post_form(admin, settings, url)
    assert response.status_code == 409
    assert f"#{p.apprenticeship_a.id} {p.apprentice_a.full_name}" in _text(response)
    assert 'role="alert"' in response.text
    db.refresh(p.tutor_a)
    assert p.tutor_a.is_active


def test_the_page_confirmation_path(admin, db, settings, personas) -> None:
    p = personas
    url = f"/admin/users/{p.tutor_a.id}/deactivate"
    response = post_form(
        admin, settings, url, {"confirm_apprenticeships": str(p.apprenticeship_a.id)}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/users/{p.tutor_a.id}?done=deactivated"
    [event] = _events(db, "user.deactivate")
    assert event.details["apprenticeships_confirmed"] == [p.apprenticeship_a.id]


def test_the_page_replacement_path(admin, db, settings, personas) -> None:
    p = personas
    url = f"/admin/users/{p.tutor_a.id}/deactivate"
    response = post_form(
        admin,
        settings,
        url,
        {"replacement_for": str(p.apprenticeship_a.id), "replacement_email": p.tutor_b.email},
    )
    assert response.status_code == 303
    _refreshed(db, p.tutor_a, p.apprenticeship_a)
    assert not p.tutor_a.is_active and p.apprenticeship_a.tutor_id == p.tutor_b.id
    assert len(_events(db, "apprenticeship.parties")) == 1
    assert len(_events(db, "user.deactivate")) == 1


def test_a_bad_replacement_shows_the_step_again_with_what_was_typed(
    admin, db, settings, personas
) -> None:
    p = personas
    appr_id = p.apprenticeship_a.id
    response = post_form(
        admin,
        settings,
        f"/admin/users/{p.tutor_a.id}/deactivate",
        {"replacement_for": str(appr_id), "replacement_email": "nobody@test.example"},
    )
    assert response.status_code == 422
    text = _text(response)
    assert "No account with this email: create it first." in text
    assert f'id="replacement-{appr_id}-error"' in text and 'value="nobody@test.example"' in text
    db.refresh(p.tutor_a)
    assert p.tutor_a.is_active


def test_a_stale_page_confirmation_is_refused(admin, db, settings, personas) -> None:
    p = personas
    url = f"/admin/users/{p.tutor_a.id}/deactivate"
    admin.get(url)  # the step shows apprenticeship A only
    later = make_apprenticeship(db, tutor=p.tutor_a)
    response = post_form(
        admin, settings, url, {"confirm_apprenticeships": str(p.apprenticeship_a.id)}
    )
    assert response.status_code == 409
    assert f"#{later.id} " in _text(response)
    db.refresh(p.tutor_a)
    assert p.tutor_a.is_active


# --- The API ----------------------------------------------------------------------------------


def test_api_refuses_without_a_decision_with_a_problem_naming_the_contracts(
    client, db, personas
) -> None:
    p = personas
    response = client.post(
        f"{API}/{p.tutor_a.id}/deactivation", json={}, headers=bearer(db, p.admin)
    )
    assert response.status_code == 409
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert f"#{p.apprenticeship_a.id} {p.apprentice_a.full_name}" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["confirm_apprenticeships"]
    db.refresh(p.tutor_a)
    assert p.tutor_a.is_active


def test_api_confirmation_path_then_reactivation(client, db, personas) -> None:
    p = personas
    headers = bearer(db, p.admin)
    url = f"{API}/{p.tutor_a.id}/deactivation"
    response = client.post(
        url, json={"confirm_apprenticeships": [p.apprenticeship_a.id]}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["id"] == p.tutor_a.id and response.json()["is_active"] is False
    [event] = _events(db, "user.deactivate")
    assert event.details["apprenticeships_confirmed"] == [p.apprenticeship_a.id]
    assert client.delete(url, headers=headers).status_code == 204
    db.refresh(p.tutor_a)
    assert p.tutor_a.is_active
    assert len(_events(db, "user.reactivate")) == 1


def test_api_replacement_path(client, db, personas) -> None:
    p = personas
    body = {
        "replacements": [
            {"apprenticeship_id": p.apprenticeship_a.id, "email": p.supervisor_b.email}
        ]
    }
    url = f"{API}/{p.supervisor_a.id}/deactivation"
    response = client.post(url, json=body, headers=bearer(db, p.admin))
    assert response.status_code == 200 and response.json()["is_active"] is False
    appr = db.get(Apprenticeship, p.apprenticeship_a.id)
    assert appr is not None
    db.refresh(appr)
    assert appr.supervisor_id == p.supervisor_b.id
    assert len(_events(db, "apprenticeship.parties")) == 1


def test_api_refuses_a_stale_confirmation(client, db, personas) -> None:
    p = personas
    make_apprenticeship(db, supervisor=p.tutor_a)
    response = client.post(
        f"{API}/{p.tutor_a.id}/deactivation",
        json={"confirm_apprenticeships": [p.apprenticeship_a.id]},
        headers=bearer(db, p.admin),
    )
    assert response.status_code == 409


def test_api_is_for_admins_and_knows_its_records(client, db, personas) -> None:
    p = personas
    url = f"{API}/{p.outsider.id}/deactivation"
    assert client.post(url, json={}, headers=bearer(db, p.tutor_a)).status_code == 403
    assert client.delete(url, headers=bearer(db, p.tutor_a)).status_code == 403
    headers = bearer(db, p.admin)
    assert (
        client.post(f"{API}/2000000000/deactivation", json={}, headers=headers).status_code == 404
    )
    assert (
        client.post(f"{API}/{p.admin.id}/deactivation", json={}, headers=headers).status_code == 409
    )
    bad = client.post(url, json={"confirm_apprenticeships": [0]}, headers=headers)
    assert bad.status_code == 422
    assert db.get(User, p.outsider.id).is_active
