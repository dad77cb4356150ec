"""The first pages: home per role, the referential browser, language switch, headers."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from tests.helpers import Personas, csrf_for, login_as


def test_security_headers_on_every_page(client: TestClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]


@pytest.mark.parametrize("who", ["apprentice_a", "tutor_a", "supervisor_a", "admin", "outsider"])
def test_referential_browser_is_readable_by_any_logged_in_user(
    client: TestClient, db: Session, settings: Settings, personas: Personas, who: str
) -> None:
    login_as(client, db, settings, getattr(personas, who))
    listing = client.get("/referentials")
    assert listing.status_code == 200
    assert "RNCP39303" in listing.text and "RNCP39668" in listing.text
    detail = client.get("/referentials/RNCP39668")
    assert detail.status_code == 200
    text = html.unescape(detail.text)
    for i in range(1, 8):
        assert f"RNCP39668BC0{i}" in text
    assert "Savoir communiquer, vendre, pitcher" in text  # BC05's own wording of CT2
    assert "Anglais au niveau B2" in text
    block = client.get("/referentials/RNCP39303/blocks/RNCP39303BC01")
    assert block.status_code == 200
    assert "Modalités d'évaluation" in html.unescape(block.text)


def test_referential_browser_requires_login(client: TestClient) -> None:
    response = client.get("/referentials/RNCP39303")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/referentials/RNCP39303")


def test_unknown_certification_and_block_are_404_pages(
    client: TestClient, db: Session, settings: Settings, personas: Personas
) -> None:
    login_as(client, db, settings, personas.tutor_a)
    response = client.get("/referentials/RNCP00000")
    assert response.status_code == 404
    assert "Cette certification n'existe pas." in html.unescape(response.text)
    assert client.get("/referentials/RNCP39303/blocks/RNCP39303BC09").status_code == 404
    assert client.get("/referentials/bad%20code").status_code == 422


def test_home_per_role(
    client: TestClient, db: Session, settings: Settings, personas: Personas
) -> None:
    p = personas
    login_as(client, db, settings, p.tutor_a)
    page = client.get("/").text
    assert "Mes apprenti·es en entreprise" in page
    assert p.apprentice_a.full_name in page and p.apprentice_b.full_name not in page
    client.cookies.clear()
    login_as(client, db, settings, p.apprentice_a)
    response = client.get("/")
    assert response.status_code == 303  # an apprentice's home is their portfolio
    assert response.headers["location"] == f"/apprenticeships/{p.apprenticeship_a.id}"
    client.cookies.clear()
    login_as(client, db, settings, p.supervisor_a)
    page = client.get("/").text
    assert "Les apprenti·es que je suis" in page and "/dashboard" in page
    client.cookies.clear()
    login_as(client, db, settings, p.admin)
    assert "Administration de l" in client.get("/").text


def test_language_switch_is_remembered_for_the_user(
    client: TestClient, db: Session, settings: Settings, personas: Personas
) -> None:
    login_as(client, db, settings, personas.tutor_a)
    assert "Référentiels" in client.get("/referentials").text
    response = client.post(
        "/language",
        data={"locale": "en", "next": "/referentials", "csrf_token": csrf_for(client, settings)},
    )
    assert response.status_code == 303 and response.headers["location"] == "/referentials"
    db.refresh(personas.tutor_a)
    assert personas.tutor_a.locale == "en"
    client.cookies.delete("livret_lang")  # the account, not the cookie, remembers it
    page = client.get("/referentials").text
    assert '<html lang="en">' in page and "Referentials" in page and "Certifications" in page


def test_language_switch_works_before_login(client: TestClient, settings: Settings) -> None:
    client.get("/login")
    client.post("/language", data={"locale": "en", "csrf_token": csrf_for(client, settings)})
    assert "Sign in to Livret" in client.get("/login").text


def test_unknown_page_is_a_friendly_404(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert "Traceback" not in response.text


def test_oversized_request_is_refused_before_reading(client: TestClient) -> None:
    response = client.post(
        "/login", content=b"x", headers={"Content-Length": str(50 * 1024 * 1024)}
    )
    assert response.status_code == 413


def test_the_supervisor_s_home_lists_what_waits_and_what_is_late(
    client, db, settings, personas
) -> None:
    """Personas' apprenticeships started in September 2025: their first semesters are long
    overdue. A situation submitted three weeks ago still waits for the tutor."""
    from datetime import timedelta

    from app.models import SituationStatus
    from app.models.base import utcnow
    from tests.factories import make_work_situation

    p = personas
    waiting = make_work_situation(db, p.apprenticeship_a, status=SituationStatus.SUBMITTED)
    waiting.submitted_at = utcnow() - timedelta(days=21)
    recent = make_work_situation(db, p.apprenticeship_a, status=SituationStatus.SUBMITTED)
    recent.submitted_at = utcnow() - timedelta(days=2)
    db.flush()
    login_as(client, db, settings, p.supervisor_a)
    page = html.unescape(client.get("/").text)
    assert "En attente de vous ou en retard" in page
    assert "Évaluer le semestre 1" in page
    assert "semestre 1 en retard" in page
    assert "1 situation attend le tuteur depuis plus de 14 jours" in page
    assert p.apprentice_b.full_name not in page  # B is supervised by someone else
