"""The work-situation journal: lifecycle, optimistic locking, validation and who may do what."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AuditEvent, SituationStatus, WorkSituation, situation_competencies
from app.services.errors import Conflict
from app.services.journal import situations as journal
from tests.factories import make_apprenticeship, make_cohort
from tests.helpers import Personas, bearer, csrf_for, login_as

BC1 = "RNCP39303BC01-C01"
BC1_C02 = "RNCP39303BC01-C02"
BC2 = "RNCP39303BC02-C03"
API = "/api/v1"


def payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Redesign of the gearbox housing",
        "starts_on": "2025-10-01",
        "ends_on": "2025-11-15",
        "context": "Design office, team of six, mission for the A320 line.",
        "actions": "Ran the FEM study and proposed two variants.",
        "results": "Mass down 12 %, approved at the design review.",
        "learnings": "Check the load cases with the test team first.",
        "competency_codes": [BC1],
    }
    data.update(overrides)
    return data


def create(client: TestClient, db: Session, p: Personas, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        f"{API}/apprenticeships/{p.apprenticeship_a.id}/work-situations",
        json=payload(**overrides),
        headers=bearer(db, p.apprentice_a),
    )
    assert response.status_code == 201, response.text
    return response.json()


def count(db: Session, model: Any) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def audit_actions(db: Session, entity_id: int) -> list[str]:
    return list(
        db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_type == "work_situation")
            .where(AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.id)
        )
    )


# --- Lifecycle --------------------------------------------------------------------------------


def test_full_lifecycle(client: TestClient, db: Session, personas: Personas) -> None:
    p = personas
    apprentice, tutor = bearer(db, p.apprentice_a), bearer(db, p.tutor_a)
    created = create(client, db, p, competency_codes=[BC2, BC1])
    sid = created["id"]
    assert created["status"] == "draft"
    assert created["version"] == 1
    assert [c["code"] for c in created["competencies"]] == [BC1, BC2]
    assert created["competencies"][0]["block_code"] == "RNCP39303BC01"
    assert created["attachments"] == []

    edited = client.patch(
        f"{API}/work-situations/{sid}",
        json={"version": 1, "title": "Gearbox housing redesign"},
        headers=apprentice,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Gearbox housing redesign"
    assert edited.json()["version"] == 2

    submitted = client.post(f"{API}/work-situations/{sid}/submit", headers=apprentice)
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_at"] is not None

    sent_back = client.post(
        f"{API}/work-situations/{sid}/request-changes",
        json={"comment": "Please describe the load cases."},
        headers=tutor,
    )
    assert sent_back.status_code == 200
    body = sent_back.json()
    assert body["status"] == "draft"
    assert body["tutor_comment"] == "Please describe the load cases."
    assert body["reviewed_by"]["id"] == p.tutor_a.id

    client.patch(
        f"{API}/work-situations/{sid}",
        json={"version": body["version"], "actions": "Load cases agreed with the test team."},
        headers=apprentice,
    ).raise_for_status()
    client.post(f"{API}/work-situations/{sid}/submit", headers=apprentice).raise_for_status()

    done = client.post(
        f"{API}/work-situations/{sid}/acknowledge", json={"comment": "Well done."}, headers=tutor
    )
    assert done.status_code == 200
    body = done.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_at"] is not None
    assert body["tutor_comment"] == "Well done."

    assert audit_actions(db, sid) == [
        "work_situation.create",
        "work_situation.update",
        "work_situation.submit",
        "work_situation.request_changes",
        "work_situation.update",
        "work_situation.submit",
        "work_situation.acknowledge",
    ]
    update = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "work_situation.update")
        .where(AuditEvent.entity_id == str(sid))
        .order_by(AuditEvent.id)
    ).first()
    assert update is not None
    assert update.actor_id == p.apprentice_a.id
    assert update.ip == "testclient"
    assert update.details["before"] == {"title": "Redesign of the gearbox housing"}
    assert update.details["after"] == {"title": "Gearbox housing redesign"}


def test_acknowledge_without_a_body(client: TestClient, db: Session, personas: Personas) -> None:
    p = personas
    sid = create(client, db, p)["id"]
    client.post(f"{API}/work-situations/{sid}/submit", headers=bearer(db, p.apprentice_a))
    response = client.post(
        f"{API}/work-situations/{sid}/acknowledge", headers=bearer(db, p.tutor_a)
    )
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    assert response.json()["tutor_comment"] == ""


def test_delete_draft(client: TestClient, db: Session, personas: Personas) -> None:
    p = personas
    sid = create(client, db, p)["id"]
    response = client.delete(f"{API}/work-situations/{sid}", headers=bearer(db, p.apprentice_a))
    assert response.status_code == 204
    assert db.get(WorkSituation, sid, populate_existing=True) is None
    assert (
        db.scalar(
            select(func.count())
            .select_from(situation_competencies)
            .where(situation_competencies.c.work_situation_id == sid)
        )
        == 0
    )
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "work_situation.delete")).one()
    assert event.details["before"]["title"] == "Redesign of the gearbox housing"


def test_browser_session_with_csrf_header_works(
    client: TestClient, db: Session, settings: Settings, personas: Personas
) -> None:
    p = personas
    login_as(client, db, settings, p.apprentice_a)
    url = f"{API}/apprenticeships/{p.apprenticeship_a.id}/work-situations"
    assert client.post(url, json=payload()).status_code == 403  # no CSRF token
    response = client.post(
        url, json=payload(), headers={"X-CSRF-Token": csrf_for(client, settings)}
    )
    assert response.status_code == 201


# --- Optimistic locking -----------------------------------------------------------------------


def test_stale_version_answers_409_and_changes_nothing(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    p.apprentice_a.locale = "en"
    apprentice = bearer(db, p.apprentice_a)
    sid = create(client, db, p)["id"]
    first = client.patch(
        f"{API}/work-situations/{sid}", json={"version": 1, "title": "First"}, headers=apprentice
    )
    assert first.status_code == 200
    stale = client.patch(
        f"{API}/work-situations/{sid}", json={"version": 1, "title": "Second"}, headers=apprentice
    )
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["detail"] == (
        "This work situation has changed since you loaded it. Reload it and try again."
    )
    current = client.get(f"{API}/work-situations/{sid}", headers=apprentice).json()
    assert current["title"] == "First"
    assert current["version"] == 2


def test_competency_only_edit_moves_the_version(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    sid = create(client, db, p)["id"]
    response = client.patch(
        f"{API}/work-situations/{sid}",
        json={"version": 1, "competency_codes": [BC1_C02, BC2]},
        headers=bearer(db, p.apprentice_a),
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert [c["code"] for c in response.json()["competencies"]] == [BC1_C02, BC2]


def test_concurrent_write_is_a_conflict(db: Session, personas: Personas) -> None:
    p = personas
    situation = journal.create_situation(
        db,
        p.apprentice_a,
        p.apprenticeship_a.id,
        journal.SituationInput(
            title="T",
            starts_on=date(2025, 10, 1),
            ends_on=date(2025, 10, 2),
            competency_codes=[BC1],
        ),
    )
    # Someone else's transaction updated the row after we loaded it...
    bump = text("UPDATE work_situations SET version = version + 1 WHERE id = :id")
    db.execute(bump, {"id": situation.id})
    # ...so the version this client read is stale,
    with pytest.raises(Conflict):
        journal.update_situation(
            db, p.apprentice_a, situation.id, 1, journal.SituationChanges(title="Mine")
        )
    # and a write racing past the check is caught by the mapper's version counter.
    db.execute(bump, {"id": situation.id})
    situation.title = "Racing"
    with pytest.raises(Conflict):
        journal._flush(db)


# --- Who may change ---------------------------------------------------------------------------


def test_tutor_editing_a_draft_is_forbidden(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    sid = create(client, db, p)["id"]
    for who in (p.tutor_a, p.supervisor_a, p.admin):
        headers = bearer(db, who)
        patch = client.patch(
            f"{API}/work-situations/{sid}", json={"version": 1, "title": "X"}, headers=headers
        )
        assert patch.status_code == 403, who
        assert client.delete(f"{API}/work-situations/{sid}", headers=headers).status_code == 403
        assert (
            client.post(f"{API}/work-situations/{sid}/submit", headers=headers).status_code == 403
        )
    assert (
        client.get(f"{API}/work-situations/{sid}", headers=bearer(db, p.apprentice_a)).json()[
            "title"
        ]
        == payload()["title"]
    )


def test_only_the_apprentice_creates(client: TestClient, db: Session, personas: Personas) -> None:
    p = personas
    url = f"{API}/apprenticeships/{p.apprenticeship_a.id}/work-situations"
    before = count(db, WorkSituation)
    for who in (p.tutor_a, p.supervisor_a, p.admin):
        assert client.post(url, json=payload(), headers=bearer(db, who)).status_code == 403
    assert count(db, WorkSituation) == before


def test_apprentice_calling_acknowledge_gets_403(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    apprentice = bearer(db, p.apprentice_a)
    sid = create(client, db, p)["id"]
    client.post(f"{API}/work-situations/{sid}/submit", headers=apprentice)
    for who in (p.apprentice_a, p.supervisor_a, p.admin):
        headers = bearer(db, who)
        ack = client.post(f"{API}/work-situations/{sid}/acknowledge", headers=headers)
        assert ack.status_code == 403
        back = client.post(
            f"{API}/work-situations/{sid}/request-changes", json={"comment": "x"}, headers=headers
        )
        assert back.status_code == 403
    assert client.get(f"{API}/work-situations/{sid}", headers=apprentice).json()["status"] == (
        "submitted"
    )


def test_apprentice_edits_and_deletes_only_drafts(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    apprentice = bearer(db, p.apprentice_a)
    sid = create(client, db, p)["id"]
    client.post(f"{API}/work-situations/{sid}/submit", headers=apprentice).raise_for_status()
    patch = client.patch(
        f"{API}/work-situations/{sid}", json={"version": 2, "title": "Late"}, headers=apprentice
    )
    assert patch.status_code == 409
    assert client.delete(f"{API}/work-situations/{sid}", headers=apprentice).status_code == 409
    assert client.post(f"{API}/work-situations/{sid}/submit", headers=apprentice).status_code == 409
    assert db.get(WorkSituation, sid, populate_existing=True) is not None


def test_tutor_acts_only_on_submitted_situations(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    tutor = bearer(db, p.tutor_a)
    sid = create(client, db, p)["id"]
    assert client.post(f"{API}/work-situations/{sid}/acknowledge", headers=tutor).status_code == 409
    back = client.post(
        f"{API}/work-situations/{sid}/request-changes", json={"comment": "x"}, headers=tutor
    )
    assert back.status_code == 409


@pytest.mark.parametrize(
    "body", [{}, {"comment": ""}, {"comment": "   "}, {"comment": "nul\x00"}, None]
)
def test_request_changes_needs_a_comment(
    client: TestClient, db: Session, personas: Personas, body: dict[str, str] | None
) -> None:
    p = personas
    sid = create(client, db, p)["id"]
    client.post(f"{API}/work-situations/{sid}/submit", headers=bearer(db, p.apprentice_a))
    events = count(db, AuditEvent)
    response = client.post(
        f"{API}/work-situations/{sid}/request-changes", json=body, headers=bearer(db, p.tutor_a)
    )
    assert response.status_code == 422
    assert count(db, AuditEvent) == events
    assert db.get(WorkSituation, sid, populate_existing=True).status is SituationStatus.SUBMITTED  # type: ignore[union-attr]


# --- Who may see ------------------------------------------------------------------------------


def test_parties_and_admin_can_read(client: TestClient, db: Session, personas: Personas) -> None:
    p = personas
    sid = create(client, db, p)["id"]
    for who in (p.apprentice_a, p.tutor_a, p.supervisor_a, p.admin):
        headers = bearer(db, who)
        assert client.get(f"{API}/work-situations/{sid}", headers=headers).status_code == 200
        listing = client.get(
            f"{API}/apprenticeships/{p.apprenticeship_a.id}/work-situations", headers=headers
        )
        assert [s["id"] for s in listing.json()["items"]] == [sid]


@pytest.mark.parametrize("who", ["tutor_b", "apprentice_b", "supervisor_b", "outsider"])
def test_tutor_of_other_apprentice_gets_404(
    client: TestClient, db: Session, personas: Personas, who: str
) -> None:
    p = personas
    draft = create(client, db, p)["id"]
    submitted = create(client, db, p)["id"]
    client.post(f"{API}/work-situations/{submitted}/submit", headers=bearer(db, p.apprentice_a))
    headers = bearer(db, getattr(p, who))
    appr = p.apprenticeship_a.id
    calls = [
        ("GET", f"{API}/apprenticeships/{appr}/work-situations", None),
        ("POST", f"{API}/apprenticeships/{appr}/work-situations", payload()),
        ("GET", f"{API}/work-situations/{draft}", None),
        ("PATCH", f"{API}/work-situations/{draft}", {"version": 1, "title": "X"}),
        ("POST", f"{API}/work-situations/{draft}/submit", None),
        ("POST", f"{API}/work-situations/{submitted}/acknowledge", {"comment": ""}),
        ("POST", f"{API}/work-situations/{submitted}/request-changes", {"comment": "x"}),
        ("GET", f"{API}/work-situations/{draft}/attachments", None),
        ("DELETE", f"{API}/work-situations/{draft}", None),
    ]
    situations, events = count(db, WorkSituation), count(db, AuditEvent)
    for method, url, body in calls:
        response = client.request(method, url, json=body, headers=headers)
        assert response.status_code == 404, (method, url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert (count(db, WorkSituation), count(db, AuditEvent)) == (situations, events)


def test_anonymous_gets_401(client: TestClient, db: Session, personas: Personas) -> None:
    sid = create(client, db, personas)["id"]
    assert client.get(f"{API}/work-situations/{sid}").status_code == 401


def test_unknown_situation_gets_404(client: TestClient, db: Session, personas: Personas) -> None:
    headers = bearer(db, personas.admin)
    assert client.get(f"{API}/work-situations/987654", headers=headers).status_code == 404
    assert client.get(f"{API}/work-situations/99999999999999", headers=headers).status_code == 422


# --- Listing ----------------------------------------------------------------------------------


def test_list_filters_and_pages(client: TestClient, db: Session, personas: Personas) -> None:
    p = personas
    apprentice = bearer(db, p.apprentice_a)
    first = create(client, db, p, starts_on="2025-09-10", ends_on="2025-09-20")["id"]
    second = create(
        client, db, p, starts_on="2025-10-10", ends_on="2025-10-20", competency_codes=[BC2]
    )["id"]
    third = create(
        client, db, p, starts_on="2025-11-10", ends_on="2025-11-20", competency_codes=[BC1, BC2]
    )["id"]
    client.post(f"{API}/work-situations/{third}/submit", headers=apprentice)
    # Apprentice B's journal never leaks into A's list.
    client.post(
        f"{API}/apprenticeships/{p.apprenticeship_b.id}/work-situations",
        json=payload(),
        headers=bearer(db, p.apprentice_b),
    ).raise_for_status()
    url = f"{API}/apprenticeships/{p.apprenticeship_a.id}/work-situations"

    def ids(**params: Any) -> list[int]:
        response = client.get(url, params=params, headers=apprentice)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["items"]]

    assert ids() == [third, second, first]
    assert ids(status="submitted") == [third]
    assert ids(status="draft") == [second, first]
    assert ids(competency=BC1) == [third, first]
    assert ids(block="RNCP39303BC02") == [third, second]
    assert ids(block="RNCP39303BC02", status="draft") == [second]
    assert ids(competency="NOPE") == []
    page = client.get(url, params={"limit": 2, "offset": 1}, headers=apprentice).json()
    assert [s["id"] for s in page["items"]] == [second, first]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)
    for bad in (
        {"status": "bogus"},
        {"limit": 0},
        {"limit": 1000},
        {"offset": -1},
        {"competency": "a\x00b"},
        {"block": "x" * 100},
    ):
        assert client.get(url, params=bad, headers=apprentice).status_code == 422


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"competency_codes": ["RNCP39303BC09-C01"]}, "competency_codes"),
        ({"competency_codes": ["RNCP39668BC01-C01"]}, "competency_codes"),  # other certification
        ({"competency_codes": ["CT1"]}, "competency_codes"),  # transversal of RNCP39668 only
        ({"competency_codes": []}, "competency_codes"),
        ({"competency_codes": ["  "]}, "competency_codes"),
        ({"starts_on": "2025-11-15", "ends_on": "2025-11-14"}, "ends_on"),
        ({"title": "x" * 100_000}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "nul\x00byte"}, "title"),
        ({"actions": "nul\x00byte"}, "actions"),
        ({"competency_codes": ["RNCP39303BC01-C01\x00"]}, "competency_codes"),
        ({"context": "x" * 20_001}, "context"),
        ({"learnings": "x" * 20_001}, "learnings"),
        ({"starts_on": "2025-02-30"}, "starts_on"),
        ({"status": "acknowledged"}, "status"),  # unknown field: status is not client-settable
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    client: TestClient,
    db: Session,
    personas: Personas,
    overrides: dict[str, Any],
    field: str,
) -> None:
    p = personas
    before = (count(db, WorkSituation), count(db, AuditEvent))
    response = client.post(
        f"{API}/apprenticeships/{p.apprenticeship_a.id}/work-situations",
        json=payload(**overrides),
        headers=bearer(db, p.apprentice_a),
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["detail"]
    assert field in {e["field"] for e in problem.get("errors", [])}
    assert (count(db, WorkSituation), count(db, AuditEvent)) == before


def test_bad_edit_is_refused_and_changes_nothing(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    p.apprentice_a.locale = "en"
    apprentice = bearer(db, p.apprentice_a)
    sid = create(client, db, p)["id"]
    url = f"{API}/work-situations/{sid}"
    events = count(db, AuditEvent)
    for body in (
        {"version": 1, "ends_on": "2025-09-01"},  # before the stored start date
        {"version": 1, "competency_codes": ["RNCP39668BC01-C01"]},
        {"version": 1, "competency_codes": []},
        {"version": 1, "title": None},
        {"version": 1, "title": "x" * 201},
        {"title": "no version"},
    ):
        response = client.patch(url, json=body, headers=apprentice)
        assert response.status_code == 422, (body, response.text)
    detail = client.patch(url, json={"version": 1, "ends_on": "2025-09-01"}, headers=apprentice)
    assert detail.json()["detail"] == "The end date must be on or after the start date."
    current = client.get(url, headers=apprentice).json()
    assert current["version"] == 1
    assert current["ends_on"] == "2025-11-15"
    assert count(db, AuditEvent) == events


def test_unknown_competency_message_names_the_codes(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    p.apprentice_a.locale = "en"
    response = client.post(
        f"{API}/apprenticeships/{p.apprenticeship_a.id}/work-situations",
        json=payload(competency_codes=[BC1, "RNCP39668BC01-C01"]),
        headers=bearer(db, p.apprentice_a),
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "These competencies are not part of this apprenticeship's certification: RNCP39668BC01-C01."
    )


def test_transversal_competency_of_the_certification_is_accepted(
    client: TestClient, db: Session, personas: Personas
) -> None:
    appr = make_apprenticeship(db, cohort=make_cohort(db, rncp_code="RNCP39668"))
    response = client.post(
        f"{API}/apprenticeships/{appr.id}/work-situations",
        json=payload(competency_codes=["CT1", "RNCP39668BC02-C01"]),
        headers=bearer(db, appr.apprentice),
    )
    assert response.status_code == 201, response.text
    codes = {c["code"]: c["block_code"] for c in response.json()["competencies"]}
    assert codes == {"CT1": None, "RNCP39668BC02-C01": "RNCP39668BC02"}


def test_same_day_situation_is_fine(client: TestClient, db: Session, personas: Personas) -> None:
    created = create(client, db, personas, starts_on="2025-10-01", ends_on="2025-10-01")
    assert created["starts_on"] == created["ends_on"]
