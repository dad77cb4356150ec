"""Reopening a locked review goes through a confirmation step: the GET says the signatures
will be voided and holds the reason and the real button; only the POST reopens."""

from __future__ import annotations

import html

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import SemesterReview
from app.models.base import utcnow
from tests.helpers import HX, Personas, login_as, post_form


def _review(db: Session, p: Personas) -> SemesterReview:
    return db.scalars(
        select(SemesterReview).where(
            SemesterReview.apprenticeship_id == p.apprenticeship_a.id, SemesterReview.semester == 1
        )
    ).one()


def _url(p: Personas, suffix: str = "/reopen") -> str:
    return f"/apprenticeships/{p.apprenticeship_a.id}/reviews/1{suffix}"


def test_reopen_step_page_and_fragment_then_the_post_reopens(
    client, db: Session, settings: Settings, personas: Personas
) -> None:
    review = _review(db, personas)
    review.locked_at = utcnow()
    db.flush()
    login_as(client, db, settings, personas.admin)
    page = client.get(_url(personas, "")).text
    assert f'href="{_url(personas)}"' in page and f'action="{_url(personas)}"' not in page

    full = client.get(_url(personas))
    assert full.status_code == 200 and "<html" in full.text
    assert full.headers["Vary"] == "HX-Request"
    text = html.unescape(full.text)
    assert "signatures sont annulées" in text or "signature est annulée" in text
    assert f'action="{_url(personas)}"' in text and 'name="reason"' in text
    fragment = client.get(_url(personas), headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert '<div id="reopen"' in fragment.text
    db.refresh(review)
    assert review.is_locked  # the GET wrote nothing

    response = post_form(client, settings, _url(personas), {"reason": "Erreur au BC02"})
    assert response.status_code == 303
    db.refresh(review)
    assert not review.is_locked


def test_reopen_step_of_an_open_review_is_a_conflict(client, db, settings, personas) -> None:
    login_as(client, db, settings, personas.admin)
    assert client.get(_url(personas)).status_code == 409


def test_reopen_step_is_for_admins(client, db, settings, personas) -> None:
    _review(db, personas).locked_at = utcnow()
    db.flush()
    login_as(client, db, settings, personas.supervisor_a)
    assert client.get(_url(personas)).status_code == 403
    client.cookies.clear()
    login_as(client, db, settings, personas.supervisor_b)
    assert client.get(_url(personas)).status_code == 404
