"""Semester reviews through the API: assessments, agreed content, co-signature, locking,
reopening, verification, concurrency and access."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models import AuditEvent, CompetencyRating, RatingSource, SemesterReview, Signature
from app.services.referentials.views import referential_for
from tests.factories import PASSWORD, certification
from tests.helpers import Personas, bearer

S1 = "/api/v1/apprenticeships/{id}/reviews/1"


def _url(p: Personas, suffix: str = "", appr=None) -> str:
    return S1.format(id=(appr or p.apprenticeship_a).id) + suffix


def _competency_ids(db: Session) -> list[int]:
    cert = certification(db, "RNCP39303")
    return [c.id for c in referential_for(db, cert).competencies]


def _agree_all(client: TestClient, db: Session, p: Personas, level: int = 3) -> dict:
    ids = _competency_ids(db)
    version = client.get(_url(p), headers=bearer(db, p.tutor_a)).json()["version"]
    body = {
        "version": version,
        "summary": "Bon semestre.",
        "ratings": [{"competency_id": cid, "level": level} for cid in ids],
    }
    response = client.put(_url(p, "/agreed"), json=body, headers=bearer(db, p.tutor_a))
    assert response.status_code == 200, response.text
    return response.json()


def _sign(client: TestClient, db: Session, user, role: str, password: str = PASSWORD):
    appr_id = db.get(SemesterReview, _review_id(db, user)).apprenticeship_id
    return client.post(
        f"/api/v1/apprenticeships/{appr_id}/reviews/1/signatures",
        json={"role": role, "password": password},
        headers=bearer(db, user),
    )


def _review_id(db: Session, user) -> int:
    from app.models import Apprenticeship

    appr = db.scalars(
        select(Apprenticeship).where(
            (Apprenticeship.apprentice_id == user.id)
            | (Apprenticeship.tutor_id == user.id)
            | (Apprenticeship.supervisor_id == user.id)
        )
    ).first()
    return db.scalars(
        select(SemesterReview.id).where(
            SemesterReview.apprenticeship_id == appr.id, SemesterReview.semester == 1
        )
    ).one()


def _sign_all(client: TestClient, db: Session, p: Personas) -> dict:
    for user, role in (
        (p.apprentice_a, "apprentice"),
        (p.tutor_a, "tutor"),
        (p.supervisor_a, "supervisor"),
    ):
        response = _sign(client, db, user, role)
        assert response.status_code == 201, response.text
    return response.json()


def test_semesters_are_derived_from_the_start_date(client, db, personas) -> None:
    response = client.get(
        f"/api/v1/apprenticeships/{personas.apprenticeship_a.id}/reviews",
        headers=bearer(db, personas.apprentice_a),
    )
    assert response.status_code == 200
    semesters = response.json()
    assert [s["semester"] for s in semesters] == [1, 2, 3, 4, 5, 6]
    assert (semesters[0]["starts_on"], semesters[0]["ends_on"]) == ("2025-09-01", "2026-02-28")
    assert (semesters[1]["starts_on"], semesters[1]["ends_on"]) == ("2026-03-01", "2026-08-31")


def test_each_party_records_its_own_assessment(client, db, personas) -> None:
    p = personas
    ids = _competency_ids(db)
    body = {
        "version": 0,
        "general_comment": "Je progresse.",
        "ratings": [
            {"competency_id": ids[0], "level": 2, "comment": "ok"},
            {"competency_id": ids[1], "not_observed": True},
        ],
    }
    response = client.put(
        _url(p, "/assessments/apprentice"), json=body, headers=bearer(db, p.apprentice_a)
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["assessments"]["apprentice"]["version"] == 1
    row0 = data["competencies"][0]
    assert row0["apprentice"]["level"] == 2 and row0["tutor"] is None
    assert data["competencies"][1]["apprentice"]["not_observed"] is True
    tutor_body = {"version": 0, "ratings": [{"competency_id": ids[0], "level": 4}]}
    response = client.put(
        _url(p, "/assessments/tutor"), json=tutor_body, headers=bearer(db, p.tutor_a)
    )
    assert response.status_code == 200
    assert response.json()["competencies"][0]["divergent"] is True  # 2 vs 4
    assert response.json()["competencies"][0]["apprentice"]["level"] == 2


def test_apprentice_calling_the_tutor_assessment_gets_403(client, db, personas) -> None:
    p = personas
    body = {"version": 0, "ratings": [{"competency_id": _competency_ids(db)[0], "level": 3}]}
    response = client.put(
        _url(p, "/assessments/tutor"), json=body, headers=bearer(db, p.apprentice_a)
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert db.scalar(select(func.count(CompetencyRating.id))) == 0


def test_admin_cannot_assess_in_a_party_s_place(client, db, personas) -> None:
    body = {"version": 0, "ratings": []}
    response = client.put(
        _url(personas, "/assessments/supervisor"), json=body, headers=bearer(db, personas.admin)
    )
    assert response.status_code == 403


def test_stale_assessment_version_answers_409(client, db, personas) -> None:
    p = personas
    ids = _competency_ids(db)
    first = {"version": 0, "ratings": [{"competency_id": ids[0], "level": 2}]}
    assert (
        client.put(
            _url(p, "/assessments/tutor"), json=first, headers=bearer(db, p.tutor_a)
        ).status_code
        == 200
    )
    stale = {"version": 0, "ratings": [{"competency_id": ids[0], "level": 4}]}
    response = client.put(_url(p, "/assessments/tutor"), json=stale, headers=bearer(db, p.tutor_a))
    assert response.status_code == 409
    assert "Thomas Tuteur" in response.json()["detail"]
    level = db.scalar(
        select(CompetencyRating.level).where(CompetencyRating.source == RatingSource.TUTOR)
    )
    assert level == 2


@pytest.mark.parametrize(
    ("rating", "status"),
    [
        ({"competency_id": 999999, "level": 3}, 422),
        ({"level": 9}, 422),
        ({"level": 0}, 422),
        ({"level": 3, "not_observed": True}, 422),
        ({"level": 3, "comment": "x" * 6000}, 422),
    ],
)
def test_bad_ratings_are_refused_and_nothing_is_written(
    client, db, personas, rating, status
) -> None:
    p = personas
    item = {"competency_id": _competency_ids(db)[0], **rating}
    response = client.put(
        _url(p, "/assessments/apprentice"),
        json={"version": 0, "ratings": [item]},
        headers=bearer(db, p.apprentice_a),
    )
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert db.scalar(select(func.count(CompetencyRating.id))) == 0


def test_competency_of_another_certification_is_refused(client, db, personas) -> None:
    other = referential_for(db, certification(db, "RNCP39668")).competencies[0].id
    response = client.put(
        _url(personas, "/agreed"),
        json={"version": 1, "ratings": [{"competency_id": other, "level": 3}]},
        headers=bearer(db, personas.tutor_a),
    )
    assert response.status_code == 422
    assert "ne fait pas partie de cette certification" in response.json()["detail"]


def test_signing_requires_complete_agreed_content(client, db, personas) -> None:
    response = _sign(client, db, personas.tutor_a, "tutor")
    assert response.status_code == 409
    assert db.scalar(select(func.count(Signature.id))) == 0


def test_wrong_password_does_not_sign(client, db, personas) -> None:
    _agree_all(client, db, personas)
    response = _sign(client, db, personas.tutor_a, "tutor", password="not my password")
    assert response.status_code == 403
    assert db.scalar(select(func.count(Signature.id))) == 0


def test_signing_in_someone_else_s_role_is_forbidden(client, db, personas) -> None:
    _agree_all(client, db, personas)
    assert _sign(client, db, personas.apprentice_a, "tutor").status_code == 403


def test_three_signatures_lock_the_review_and_changes_answer_409(client, db, personas) -> None:
    p = personas
    _agree_all(client, db, p)
    data = _sign_all(client, db, p)
    assert data["state"] == "locked" and data["locked_at"]
    assert data["signed_roles"] == ["apprentice", "supervisor", "tutor"]
    assert all(s["content_hash"] == data["content_hash"] for s in data["signatures"])
    ids = _competency_ids(db)
    change = {"version": data["version"], "ratings": [{"competency_id": ids[0], "level": 1}]}
    assert (
        client.put(_url(p, "/agreed"), json=change, headers=bearer(db, p.tutor_a)).status_code
        == 409
    )
    own = {"version": 0, "ratings": [{"competency_id": ids[0], "level": 1}]}
    assert (
        client.put(
            _url(p, "/assessments/apprentice"), json=own, headers=bearer(db, p.apprentice_a)
        ).status_code
        == 409
    )
    assert _sign(client, db, p.tutor_a, "tutor").status_code == 409
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"review.agreed", "review.sign", "review.locked"} <= actions


def test_agreed_edit_after_one_signature_voids_it(client, db, personas) -> None:
    p = personas
    agreed = _agree_all(client, db, p)
    signed = _sign(client, db, p.apprentice_a, "apprentice").json()
    assert signed["signed_roles"] == ["apprentice"]
    ids = _competency_ids(db)
    change = {"version": agreed["version"], "ratings": [{"competency_id": ids[0], "level": 4}]}
    response = client.put(_url(p, "/agreed"), json=change, headers=bearer(db, p.supervisor_a))
    assert response.status_code == 200
    data = response.json()
    assert data["signed_roles"] == []
    voided = data["signatures"][0]
    assert voided["voided_at"] and "agreed content changed" in voided["void_reason"]
    assert (
        db.scalar(select(func.count()).where(AuditEvent.action == "review.signatures_voided")) == 1
    )
    # The same edit again, with the version read before the change, is stale.
    stale = client.put(_url(p, "/agreed"), json=change, headers=bearer(db, p.tutor_a))
    assert stale.status_code == 409
    assert (
        db.scalar(
            select(CompetencyRating.level).where(
                CompetencyRating.source == RatingSource.AGREED,
                CompetencyRating.competency_id == ids[0],
            )
        )
        == 4
    )


def test_unchanged_agreed_content_keeps_signatures(client, db, personas) -> None:
    p = personas
    agreed = _agree_all(client, db, p)
    _sign(client, db, p.apprentice_a, "apprentice")
    same = {
        "version": agreed["version"],
        "ratings": [{"competency_id": _competency_ids(db)[0], "level": 3}],
    }
    response = client.put(_url(p, "/agreed"), json=same, headers=bearer(db, p.tutor_a))
    assert response.status_code == 200 and response.json()["signed_roles"] == ["apprentice"]


def test_admin_reopens_with_a_reason(client, db, personas) -> None:
    p = personas
    _agree_all(client, db, p)
    _sign_all(client, db, p)
    assert (
        client.post(
            _url(p, "/reopen"), json={"reason": "x"}, headers=bearer(db, p.supervisor_a)
        ).status_code
        == 403
    )
    assert (
        client.post(
            _url(p, "/reopen"), json={"reason": ""}, headers=bearer(db, p.admin)
        ).status_code
        == 422
    )
    response = client.post(
        _url(p, "/reopen"), json={"reason": "Erreur de saisie au BC02"}, headers=bearer(db, p.admin)
    )
    assert response.status_code == 200
    data = response.json()
    assert data["state"] == "pending" and data["signed_roles"] == []
    assert all(s["void_reason"] == "Erreur de saisie au BC02" for s in data["signatures"])
    assert (
        client.post(
            _url(p, "/reopen"), json={"reason": "again"}, headers=bearer(db, p.admin)
        ).status_code
        == 409
    )


def test_verification_reports_intact_then_altered_after_tampering(client, db, personas) -> None:
    p = personas
    _agree_all(client, db, p)
    _sign_all(client, db, p)
    check = client.get(_url(p, "/verification"), headers=bearer(db, p.supervisor_a)).json()
    assert check["intact"] is True
    assert [s["status"] for s in check["signatures"]] == ["intact"] * 3
    db.execute(
        text(
            "UPDATE competency_ratings SET level = 4 WHERE source = 'agreed' AND id = "
            "(SELECT MIN(id) FROM competency_ratings WHERE source = 'agreed')"
        )
    )
    db.flush()
    check = client.get(_url(p, "/verification"), headers=bearer(db, p.supervisor_a)).json()
    assert check["intact"] is False
    assert [s["status"] for s in check["signatures"]] == ["altered"] * 3


def test_admin_adjusts_semester_dates(client, db, personas) -> None:
    p = personas
    body = {"starts_on": "2025-09-15", "ends_on": "2026-02-15"}
    assert client.patch(_url(p), json=body, headers=bearer(db, p.tutor_a)).status_code == 403
    response = client.patch(_url(p), json=body, headers=bearer(db, p.admin))
    assert response.status_code == 200 and response.json()["ends_on"] == "2026-02-15"
    bad = {"starts_on": "2026-02-15", "ends_on": "2025-09-15"}
    assert client.patch(_url(p), json=bad, headers=bearer(db, p.admin)).status_code == 422


REVIEW_ENDPOINTS = [
    ("get", "", None),
    ("get", "/verification", None),
    ("put", "/assessments/tutor", {"version": 0, "ratings": []}),
    ("put", "/agreed", {"version": 1, "ratings": []}),
    ("post", "/signatures", {"role": "tutor", "password": PASSWORD}),
    ("post", "/reopen", {"reason": "x"}),
    ("patch", "", {"starts_on": "2025-09-01", "ends_on": "2026-01-01"}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), REVIEW_ENDPOINTS)
def test_tutor_of_other_apprentice_gets_404_on_every_review_endpoint(
    client, db, personas, method, suffix, body
) -> None:
    kwargs = {"json": body} if body is not None else {}
    response = getattr(client, method)(
        _url(personas, suffix), headers=bearer(db, personas.tutor_b), **kwargs
    )
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("path", ["/reviews", "/progress", ""])
def test_outsider_gets_404_on_apprenticeship_endpoints(client, db, personas, path) -> None:
    url = f"/api/v1/apprenticeships/{personas.apprenticeship_a.id}{path}"
    assert client.get(url, headers=bearer(db, personas.outsider)).status_code == 404
    assert client.get(url, headers=bearer(db, personas.tutor_b)).status_code == 404


def test_unknown_semester_is_404_and_out_of_range_is_422(client, db, personas) -> None:
    base = f"/api/v1/apprenticeships/{personas.apprenticeship_a.id}/reviews"
    headers = bearer(db, personas.tutor_a)
    assert client.get(f"{base}/7", headers=headers).status_code == 404
    assert client.get(f"{base}/99", headers=headers).status_code == 422


def test_wrong_signing_passwords_are_kept_and_throttled(client, db, personas) -> None:
    _agree_all(client, db, personas)
    for _ in range(5):
        assert _sign(client, db, personas.tutor_a, "tutor", password="bad").status_code == 403
    assert db.scalar(select(func.count()).where(AuditEvent.action == "review.sign_failed")) == 5
    assert _sign(client, db, personas.tutor_a, "tutor").status_code == 429
    assert db.scalar(select(func.count(Signature.id))) == 0
