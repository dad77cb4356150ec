"""English results and mobility pages."""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import func, select

from app.models import Attachment, EnglishResult, MobilityPeriod
from tests.helpers import csrf_for, login_as, png_bytes, post_form


def test_apprentice_adds_an_english_result_and_its_certificate(client, db, settings, personas):
    p = personas
    login_as(client, db, settings, p.apprentice_a)
    url = f"/apprenticeships/{p.apprenticeship_a.id}/english"
    assert client.get(url).status_code == 200
    response = post_form(
        client,
        settings,
        url,
        {"test_name": "TOEIC", "score": "850", "cefr_level": "b2", "taken_on": "2026-01-15"},
    )
    assert response.status_code == 303
    result = db.scalars(select(EnglishResult)).one()
    assert result.cefr_level == "B2"
    upload = client.post(
        f"/english-results/{result.id}/certificate",
        data={"csrf_token": csrf_for(client, settings)},
        files={"file": ("toeic.png", io.BytesIO(png_bytes()), "image/png")},
    )
    assert upload.status_code == 303
    assert db.scalar(select(func.count(Attachment.id))) == 1
    assert "toeic.png" in client.get(url).text


@pytest.mark.parametrize(
    "data",
    [
        {"test_name": "", "score": "1", "cefr_level": "B2", "taken_on": "2026-01-15"},
        {"test_name": "TOEIC", "score": "1", "cefr_level": "Z9", "taken_on": "2026-01-15"},
        {"test_name": "TOEIC", "score": "1", "cefr_level": "B2", "taken_on": "hier"},
        {"test_name": "x" * 100_000, "score": "1", "cefr_level": "B2", "taken_on": "2026-01-15"},
    ],
)
def test_bad_english_input_is_422_and_keeps_the_input(client, db, settings, personas, data):
    p = personas
    login_as(client, db, settings, p.apprentice_a)
    client.get("/")
    response = post_form(
        client, settings, f"/apprenticeships/{p.apprenticeship_a.id}/english", data
    )
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert db.scalar(select(func.count(EnglishResult.id))) == 0


def test_mobility_period_and_weeks(client, db, settings, personas):
    p = personas
    login_as(client, db, settings, p.apprentice_a)
    url = f"/apprenticeships/{p.apprenticeship_a.id}/mobility"
    page = client.get(url).text
    assert "Allemagne" in page  # country names in the user's language
    response = post_form(
        client,
        settings,
        url,
        {
            "country": "de",
            "host": "Airbus Hamburg",
            "starts_on": "2026-03-02",
            "ends_on": "2026-05-24",
        },
    )
    assert response.status_code == 303
    assert db.scalar(select(MobilityPeriod.country)) == "DE"
    assert "12 semaines" in html.unescape(client.get(url).text)
    bad = post_form(
        client,
        settings,
        url,
        {"country": "DE", "host": "X", "starts_on": "2026-05-24", "ends_on": "2026-03-02"},
    )
    assert bad.status_code == 422 and "Airbus Hamburg" in bad.text


def test_tutor_reads_but_cannot_add(client, db, settings, personas):
    p = personas
    login_as(client, db, settings, p.tutor_a)
    url = f"/apprenticeships/{p.apprenticeship_a.id}/mobility"
    assert client.get(url).status_code == 200 and 'name="host"' not in client.get(url).text
    response = post_form(
        client,
        settings,
        url,
        {"country": "DE", "host": "X", "starts_on": "2026-03-02", "ends_on": "2026-03-09"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["tutor_b", "outsider"])
def test_others_get_404(client, db, settings, personas, who):
    login_as(client, db, settings, getattr(personas, who))
    for page in ("english", "mobility"):
        assert (
            client.get(f"/apprenticeships/{personas.apprenticeship_a.id}/{page}").status_code == 404
        )


@pytest.mark.parametrize("page", ["english", "mobility"])
def test_a_tutor_gets_403_even_with_a_bad_date(client, db, settings, personas, page) -> None:
    """Who may record is checked before the input is read: no message about the input."""
    p = personas
    login_as(client, db, settings, p.tutor_a)
    client.get("/")
    data = {"test_name": "TOEIC", "score": "1", "cefr_level": "B2", "taken_on": "hier"}
    data |= {"country": "DE", "host": "X", "starts_on": "hier", "ends_on": "demain"}
    url = f"/apprenticeships/{p.apprenticeship_a.id}/{page}"
    assert post_form(client, settings, url, data).status_code == 403
