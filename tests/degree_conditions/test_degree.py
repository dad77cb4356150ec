"""English results and mobility periods: who records, who sees, what is refused."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, EnglishResult, MobilityPeriod
from app.services.degree_conditions.evidence import country_codes
from tests.helpers import Personas, bearer

API = "/api/v1"


def english(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "test_name": "TOEIC Listening & Reading",
        "score": "885",
        "cefr_level": "B2",
        "taken_on": "2025-05-20",
    }
    data.update(overrides)
    return data


def mobility(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "country": "DE",
        "host": "TU München, Lehrstuhl für Werkzeugmaschinen",
        "starts_on": "2026-03-02",
        "ends_on": "2026-05-24",
    }
    data.update(overrides)
    return data


def count(db: Session, model: Any) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def url(p: Personas, kind: str) -> str:
    return f"{API}/apprenticeships/{p.apprenticeship_a.id}/{kind}"


# --- English results --------------------------------------------------------------------------


def test_apprentice_records_and_everyone_concerned_lists_english_results(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    response = client.post(
        url(p, "english-results"), json=english(), headers=bearer(db, p.apprentice_a)
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["cefr_level"] == "B2"
    assert created["attachments"] == []
    later = client.post(
        url(p, "english-results"),
        json=english(test_name="Linguaskill", score="180", cefr_level="C1", taken_on="2026-01-10"),
        headers=bearer(db, p.admin),
    )
    assert later.status_code == 201
    for who in (p.apprentice_a, p.tutor_a, p.supervisor_a, p.admin):
        listing = client.get(url(p, "english-results"), headers=bearer(db, who))
        assert listing.status_code == 200
        assert [r["test_name"] for r in listing.json()] == [
            "Linguaskill",
            "TOEIC Listening & Reading",
        ]
    event = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "english_result.create")
        .order_by(AuditEvent.id)
    ).first()
    assert event is not None
    assert event.actor_id == p.apprentice_a.id
    assert event.entity_id == str(created["id"])
    assert event.details["after"] == {
        "test_name": "TOEIC Listening & Reading",
        "score": "885",
        "cefr_level": "B2",
        "taken_on": "2025-05-20",
    }
    assert event.ip == "testclient"


def test_tutor_and_supervisor_may_not_record_english_results(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    for who in (p.tutor_a, p.supervisor_a):
        response = client.post(url(p, "english-results"), json=english(), headers=bearer(db, who))
        assert response.status_code == 403
    assert count(db, EnglishResult) == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cefr_level": "B3"}, "cefr_level"),
        ({"cefr_level": "b2"}, "cefr_level"),
        ({"test_name": ""}, "test_name"),
        ({"test_name": "x" * 101}, "test_name"),
        ({"test_name": "TOEIC\x00"}, "test_name"),
        ({"score": "9" * 41}, "score"),
        ({"taken_on": "yesterday"}, "taken_on"),
        ({"taken_on": (date.today() + timedelta(days=2)).isoformat()}, "taken_on"),
        ({"passed": True}, "passed"),
    ],
)
def test_bad_english_result_is_refused_and_writes_nothing(
    client: TestClient, db: Session, personas: Personas, overrides: dict[str, Any], field: str
) -> None:
    p = personas
    before = (count(db, EnglishResult), count(db, AuditEvent))
    response = client.post(
        url(p, "english-results"), json=english(**overrides), headers=bearer(db, p.apprentice_a)
    )
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    assert (count(db, EnglishResult), count(db, AuditEvent)) == before


# --- Mobility ---------------------------------------------------------------------------------


def test_apprentice_records_and_everyone_concerned_lists_mobility(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    response = client.post(
        url(p, "mobility-periods"), json=mobility(country="de"), headers=bearer(db, p.apprentice_a)
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["country"] == "DE"
    assert created["weeks"] == 12
    client.post(
        url(p, "mobility-periods"),
        json=mobility(
            country="CA",
            host="Polytechnique Montréal",
            starts_on="2025-07-01",
            ends_on="2025-07-01",
        ),
        headers=bearer(db, p.admin),
    ).raise_for_status()
    for who in (p.apprentice_a, p.tutor_a, p.supervisor_a, p.admin):
        listing = client.get(url(p, "mobility-periods"), headers=bearer(db, who))
        assert listing.status_code == 200
        assert [m["country"] for m in listing.json()] == ["CA", "DE"]
    event = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "mobility_period.create")
        .order_by(AuditEvent.id)
    ).first()
    assert event is not None
    assert event.details["after"]["country"] == "DE"
    assert event.details["apprenticeship_id"] == p.apprenticeship_a.id


def test_tutor_and_supervisor_may_not_record_mobility(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    for who in (p.tutor_a, p.supervisor_a):
        response = client.post(url(p, "mobility-periods"), json=mobility(), headers=bearer(db, who))
        assert response.status_code == 403
    assert count(db, MobilityPeriod) == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_on": "2026-05-24", "ends_on": "2026-03-02"}, "ends_on"),
        ({"country": "XX"}, "country"),
        ({"country": "EU"}, "country"),
        ({"country": "FRA"}, "country"),
        ({"country": "1"}, "country"),
        ({"host": ""}, "host"),
        ({"host": "h" * 201}, "host"),
        ({"host": "nul\x00byte"}, "host"),
        ({"starts_on": "2026-13-01"}, "starts_on"),
    ],
)
def test_bad_mobility_is_refused_and_writes_nothing(
    client: TestClient, db: Session, personas: Personas, overrides: dict[str, Any], field: str
) -> None:
    p = personas
    before = (count(db, MobilityPeriod), count(db, AuditEvent))
    response = client.post(
        url(p, "mobility-periods"), json=mobility(**overrides), headers=bearer(db, p.apprentice_a)
    )
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    assert (count(db, MobilityPeriod), count(db, AuditEvent)) == before


def test_end_before_start_says_so(client: TestClient, db: Session, personas: Personas) -> None:
    p = personas
    p.apprentice_a.locale = "en"
    response = client.post(
        url(p, "mobility-periods"),
        json=mobility(starts_on="2026-05-24", ends_on="2026-03-02"),
        headers=bearer(db, p.apprentice_a),
    )
    assert response.json()["detail"] == "The end date must be on or after the start date."


def test_country_codes_are_iso_alpha_2() -> None:
    codes = country_codes()
    assert {"FR", "DE", "CA", "JP", "XK"} <= codes
    assert not {"EU", "UN", "ZZ", "QO", "AC"} & codes
    assert len(codes) == 250  # the 249 ISO 3166-1 countries plus Kosovo


# --- Who may see ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["tutor_b", "apprentice_b", "supervisor_b", "outsider"])
def test_tutor_of_other_apprentice_gets_404(
    client: TestClient, db: Session, personas: Personas, who: str
) -> None:
    p = personas
    client.post(
        url(p, "english-results"), json=english(), headers=bearer(db, p.apprentice_a)
    ).raise_for_status()
    client.post(
        url(p, "mobility-periods"), json=mobility(), headers=bearer(db, p.apprentice_a)
    ).raise_for_status()
    headers = bearer(db, getattr(p, who))
    before = (count(db, EnglishResult), count(db, MobilityPeriod), count(db, AuditEvent))
    for kind, body in (("english-results", english()), ("mobility-periods", mobility())):
        assert client.get(url(p, kind), headers=headers).status_code == 404
        response = client.post(url(p, kind), json=body, headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    after = (count(db, EnglishResult), count(db, MobilityPeriod), count(db, AuditEvent))
    assert after == before


def test_lists_are_scoped_to_the_apprenticeship(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    client.post(
        f"{API}/apprenticeships/{p.apprenticeship_b.id}/mobility-periods",
        json=mobility(),
        headers=bearer(db, p.apprentice_b),
    ).raise_for_status()
    listing = client.get(url(p, "mobility-periods"), headers=bearer(db, p.apprentice_a))
    assert listing.json() == []


def test_anonymous_gets_401(client: TestClient, personas: Personas) -> None:
    assert client.get(url(personas, "english-results")).status_code == 401
    assert client.post(url(personas, "mobility-periods"), json=mobility()).status_code == 401
