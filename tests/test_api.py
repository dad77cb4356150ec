"""JSON API basics: tokens, problem responses, certifications, apprenticeships, docs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import ApiToken, Apprenticeship, OrganisationKind, SemesterReview
from app.models.base import utcnow
from app.services.people.auth import token_digest
from tests.factories import PASSWORD, make_cohort, make_organisation, make_user
from tests.helpers import Personas, bearer, csrf_for, login_as


def test_token_lifecycle(client: TestClient, db: Session) -> None:
    user = make_user(db, email="api@test.example")
    response = client.post(
        "/api/v1/tokens", json={"email": "API@test.example", "password": PASSWORD, "name": "cli"}
    )
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    stored = db.scalars(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).one()
    assert stored.user_id == user.id and token not in stored.token_hash
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/certifications", headers=headers).status_code == 200
    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    revoked = client.get("/api/v1/certifications", headers=headers)
    assert revoked.status_code == 401
    assert revoked.headers["content-type"].startswith("application/problem+json")
    assert revoked.headers["WWW-Authenticate"] == "Bearer"


def test_wrong_password_gets_no_token(client: TestClient, db: Session) -> None:
    user = make_user(db)
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": "nope"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Adresse e-mail ou mot de passe incorrect."
    assert db.scalar(select(func.count(ApiToken.id))) == 0


def test_token_issuing_is_throttled(client: TestClient, db: Session) -> None:
    user = make_user(db)
    for _ in range(5):
        client.post("/api/v1/tokens", json={"email": user.email, "password": "nope"})
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429


def test_expired_token_is_refused(client: TestClient, db: Session) -> None:
    user = make_user(db)
    headers = bearer(db, user)
    token = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    assert client.get("/api/v1/certifications", headers=headers).status_code == 401


def test_anonymous_api_call_is_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/apprenticeships")
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 401 and body["detail"]


def test_session_cookie_works_and_needs_csrf_for_writes(
    client: TestClient, db: Session, settings: Settings, personas: Personas
) -> None:
    login_as(client, db, settings, personas.tutor_a)
    assert client.get("/api/v1/apprenticeships").status_code == 200
    url = f"/api/v1/apprenticeships/{personas.apprenticeship_a.id}/reviews/1/assessments/tutor"
    body = {"version": 0, "ratings": []}
    assert client.put(url, json=body).status_code == 403  # no CSRF header
    response = client.put(url, json=body, headers={"X-CSRF-Token": csrf_for(client, settings)})
    assert response.status_code == 200


def test_certifications(client: TestClient, db: Session, personas: Personas) -> None:
    headers = bearer(db, personas.apprentice_a)
    listing = client.get("/api/v1/certifications", headers=headers).json()
    assert {c["rncp_code"]: c["block_count"] for c in listing} == {"RNCP39303": 4, "RNCP39668": 7}
    detail = client.get("/api/v1/certifications/RNCP39668", headers=headers).json()
    assert len(detail["blocks"]) == 7
    assert sum(len(b["competencies"]) for b in detail["blocks"]) == 28
    assert [c["code"] for c in detail["transversal_competencies"]] == ["CT1", "CT2", "CT3"]
    assert detail["scale"]["acquired_threshold"] == 3
    assert detail["scale"]["levels"][0]["label_fr"] == "Non acquis"
    assert detail["requirements"]["mobility_min_weeks"] == 9
    assert client.get("/api/v1/certifications/RNCP1", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", {"a", "b"}),
        ("apprentice_a", {"a"}),
        ("tutor_b", {"b"}),
        ("supervisor_a", {"a"}),
        ("outsider", set()),
    ],
)
def test_apprenticeship_list_is_scoped(client, db, personas, who, expected) -> None:
    ids = {personas.apprenticeship_a.id: "a", personas.apprenticeship_b.id: "b"}
    listing = client.get("/api/v1/apprenticeships", headers=bearer(db, getattr(personas, who)))
    seen = {ids[a["id"]] for a in listing.json() if a["id"] in ids}
    assert seen == expected


def _new_apprenticeship_body(db: Session) -> dict:
    return {
        "apprentice_id": make_user(db).id,
        "tutor_id": make_user(db).id,
        "supervisor_id": make_user(db).id,
        "company_id": make_organisation(db).id,
        "cohort_id": make_cohort(db, rncp_code="RNCP39668").id,
        "starts_on": "2026-09-01",
        "ends_on": "2029-08-31",
    }


def test_admin_creates_an_apprenticeship_with_its_semesters(client, db, personas) -> None:
    body = _new_apprenticeship_body(db)
    response = client.post("/api/v1/apprenticeships", json=body, headers=bearer(db, personas.admin))
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["cohort"]["rncp_code"] == "RNCP39668" and data["semester_count"] == 6
    assert (
        db.scalar(
            select(func.count(SemesterReview.id)).where(
                SemesterReview.apprenticeship_id == data["id"]
            )
        )
        == 6
    )


def test_non_admin_cannot_create_an_apprenticeship(client, db, personas) -> None:
    body = _new_apprenticeship_body(db)
    before = db.scalar(select(func.count(Apprenticeship.id)))
    response = client.post(
        "/api/v1/apprenticeships", json=body, headers=bearer(db, personas.supervisor_a)
    )
    assert response.status_code == 403
    assert db.scalar(select(func.count(Apprenticeship.id))) == before


@pytest.mark.parametrize(
    "change",
    [
        {"ends_on": "2026-08-01"},
        {"semester_count": 13},
        {"company_id": 999999},
        {"unknown_field": 1},
        {"title": "x" * 100_000},
        {"starts_on": "not a date"},
    ],
)
def test_bad_apprenticeship_input_is_4xx_and_writes_nothing(client, db, personas, change) -> None:
    body = {**_new_apprenticeship_body(db), **change}
    before = db.scalar(select(func.count(Apprenticeship.id)))
    response = client.post("/api/v1/apprenticeships", json=body, headers=bearer(db, personas.admin))
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]
    assert db.scalar(select(func.count(Apprenticeship.id))) == before


def test_school_is_not_a_company(client, db, personas) -> None:
    body = _new_apprenticeship_body(db)
    body["company_id"] = make_organisation(db, kind=OrganisationKind.SCHOOL).id
    response = client.post("/api/v1/apprenticeships", json=body, headers=bearer(db, personas.admin))
    assert response.status_code == 422


def test_openapi_schema_and_docs_page(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/tokens",
        "/api/v1/certifications/{rncp_code}",
        "/api/v1/apprenticeships/{apprenticeship_id}/progress",
        "/api/v1/apprenticeships/{apprenticeship_id}/reviews/{semester}/signatures",
    ):
        assert path in paths, path
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/js/api-docs.js" in docs.text
    assert "<script>" not in docs.text  # no inline script: the CSP holds
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_me_is_the_caller_with_their_roles(client, db, personas) -> None:
    p = personas
    response = client.get("/api/v1/me", headers=bearer(db, p.tutor_a))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["email"], body["is_admin"]) == (p.tutor_a.id, p.tutor_a.email, False)
    assert body["apprenticeships"] == [
        {"apprenticeship_id": p.apprenticeship_a.id, "roles": ["tutor"]}
    ]
    outsider = client.get("/api/v1/me", headers=bearer(db, p.outsider)).json()
    assert outsider["apprenticeships"] == []
    assert client.get("/api/v1/me").status_code == 401
