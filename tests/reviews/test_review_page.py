"""The review page: columns, inline saves (htmx and plain forms), conflicts, signing."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import CompetencyRating, Party, RatingSource, Signature
from app.services.referentials.views import referential_for
from app.services.reviews import workflow as review_service
from app.services.reviews.workflow import RatingInput
from tests.factories import PASSWORD, certification
from tests.helpers import Personas, login_as, post_form


def _url(p: Personas, suffix: str = "") -> str:
    return f"/apprenticeships/{p.apprenticeship_a.id}/reviews/1{suffix}"


def _comp_ids(db: Session) -> list[int]:
    return [c.id for c in referential_for(db, certification(db)).competencies]


def test_page_shows_every_block_and_the_viewer_s_own_column(client, db, settings, personas):
    login_as(client, db, settings, personas.tutor_a)
    response = client.get(_url(personas))
    assert response.status_code == 200
    text = html.unescape(response.text)
    for code in ("RNCP39303BC01", "RNCP39303BC04"):
        assert code in text
    cid = _comp_ids(db)[0]
    assert f'action="{_url(personas)}/assessments/tutor/ratings/{cid}"' in text
    assert "/assessments/apprentice/ratings/" not in text  # not the tutor's column
    assert f'action="{_url(personas)}/agreed/ratings/{cid}"' in text


@pytest.mark.parametrize("who", ["tutor_b", "supervisor_b", "outsider"])
def test_others_get_404(client, db, settings, personas, who):
    login_as(client, db, settings, getattr(personas, who))
    assert client.get(_url(personas)).status_code == 404


def test_htmx_save_returns_the_row_and_new_versions(client, db, settings, personas):
    login_as(client, db, settings, personas.apprentice_a)
    client.get(_url(personas))
    cid = _comp_ids(db)[0]
    response = post_form(
        client,
        settings,
        _url(personas, f"/assessments/apprentice/ratings/{cid}"),
        {"version": "0", "level": "3", "comment": "Bien"},
        htmx=True,
    )
    assert response.status_code == 200, response.text
    assert "<html" not in response.text
    assert response.text.lstrip().startswith(f'<tr id="c{cid}"')
    assert 'class="v-apprentice" hx-swap-oob="outerHTML:.v-apprentice"' in response.text
    assert re.search(r'value="1" class="v-apprentice"', response.text)
    assert "livret:toast" in response.headers["HX-Trigger"]
    stored = db.scalars(
        select(CompetencyRating).where(CompetencyRating.source == RatingSource.APPRENTICE)
    ).one()
    assert (stored.level, stored.comment) == (3, "Bien")


def test_plain_form_save_redirects_to_the_page(client, db, settings, personas):
    login_as(client, db, settings, personas.apprentice_a)
    client.get(_url(personas))
    cid = _comp_ids(db)[1]
    response = post_form(
        client,
        settings,
        _url(personas, f"/assessments/apprentice/ratings/{cid}"),
        {"version": "0", "level": "na"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == _url(personas, f"#c{cid}")
    assert client.get(_url(personas, f"/assessments/apprentice/ratings/{cid}")).status_code == 303


def test_conflict_names_who_changed_and_keeps_the_input(client, db, settings, personas):
    cid = _comp_ids(db)[0]
    review_service.save_assessment(
        db,
        personas.tutor_a,
        personas.apprenticeship_a.id,
        1,
        Party.TUTOR,
        version=0,
        ratings=[RatingInput(cid, 2)],
    )
    login_as(client, db, settings, personas.tutor_a)
    client.get("/")
    response = post_form(
        client,
        settings,
        _url(personas, f"/assessments/tutor/ratings/{cid}"),
        {"version": "0", "level": "4"},
        htmx=True,
    )
    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#messages"  # the row (and the input) stays
    text = html.unescape(response.text)
    assert "Thomas Tuteur" in text and "<html" not in text


def test_apprentice_cannot_post_in_the_tutor_column(client, db, settings, personas):
    login_as(client, db, settings, personas.apprentice_a)
    client.get("/")
    cid = _comp_ids(db)[0]
    response = post_form(
        client,
        settings,
        _url(personas, f"/assessments/tutor/ratings/{cid}"),
        {"version": "0", "level": "4"},
    )
    assert response.status_code == 403
    assert db.scalar(select(func.count(CompetencyRating.id))) == 0


def test_bad_level_is_422(client, db, settings, personas):
    login_as(client, db, settings, personas.apprentice_a)
    client.get("/")
    cid = _comp_ids(db)[0]
    for level in ("9", "x"):
        response = post_form(
            client,
            settings,
            _url(personas, f"/assessments/apprentice/ratings/{cid}"),
            {"version": "0", "level": level},
        )
        assert response.status_code == 422
    assert db.scalar(select(func.count(CompetencyRating.id))) == 0


def _agree_everything(db, personas):
    ids = _comp_ids(db)
    review_service.save_agreed(
        db,
        personas.tutor_a,
        personas.apprenticeship_a.id,
        1,
        version=1,
        ratings=[RatingInput(cid, 3) for cid in ids],
    )


def test_signing_from_the_page(client, db, settings, personas):
    _agree_everything(db, personas)
    login_as(client, db, settings, personas.supervisor_a)
    page = html.unescape(client.get(_url(personas)).text)
    assert 'name="password"' in page
    wrong = post_form(
        client,
        settings,
        _url(personas, "/sign"),
        {"role": "supervisor", "password": "wrong password"},
    )
    assert wrong.status_code == 403
    assert "Le mot de passe est incorrect" in html.unescape(wrong.text)
    assert 'aria-invalid="true"' in wrong.text
    ok = post_form(
        client, settings, _url(personas, "/sign"), {"role": "supervisor", "password": PASSWORD}
    )
    assert ok.status_code == 303
    assert db.scalar(select(func.count(Signature.id))) == 1
    page = html.unescape(client.get(_url(personas)).text)
    assert "Vérification : intacte" in page


def test_locked_review_shows_no_forms_and_admin_can_reopen(client, db, settings, personas):
    _agree_everything(db, personas)
    for user, role in (
        (personas.apprentice_a, "apprentice"),
        (personas.tutor_a, "tutor"),
        (personas.supervisor_a, "supervisor"),
    ):
        review_service.sign(
            db,
            settings,
            user,
            personas.apprenticeship_a.id,
            1,
            Party(role),
            password=PASSWORD,
        )
    login_as(client, db, settings, personas.tutor_a)
    page = client.get(_url(personas)).text
    assert "/ratings/" not in page and 'name="password"' not in page
    client.cookies.clear()
    login_as(client, db, settings, personas.admin)
    page = client.get(_url(personas)).text
    assert 'action="' + _url(personas, "/reopen") + '"' not in page  # a step first
    assert 'href="' + _url(personas, "/reopen") + '"' in page
    step = client.get(_url(personas, "/reopen"))
    assert step.status_code == 200 and 'action="' + _url(personas, "/reopen") + '"' in step.text
    response = post_form(client, settings, _url(personas, "/reopen"), {"reason": "Erreur 100%"})
    assert response.status_code == 303
    page = html.unescape(client.get(_url(personas)).text)
    assert "Erreur 100%" in page  # a free-text reason is shown as typed
