"""Journal pages: list with filters and paging, the form with inline validation, the
situation page, tutor acknowledgement, attachments."""

from __future__ import annotations

import html
import io
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.models import Attachment, SituationStatus, WorkSituation
from app.services.journal import situations as journal_service
from tests.helpers import HX, Personas, csrf_for, login_as, png_bytes, post_form

C1, C2 = "RNCP39303BC01-C01", "RNCP39303BC02-C01"
PNG = png_bytes()


def _situation(db, p: Personas, title: str = "Analyse vibratoire", codes=(C1,), status=None):
    s = journal_service.create_situation(
        db,
        p.apprentice_a,
        p.apprenticeship_a.id,
        journal_service.SituationInput(
            title,
            date(2025, 10, 1),
            date(2025, 10, 3),
            list(codes),
            context="Atelier",
            actions="Mesures",
        ),
    )
    if status in ("submitted", "acknowledged"):
        journal_service.submit(db, p.apprentice_a, s.id)
    if status == "acknowledged":
        journal_service.acknowledge(db, p.tutor_a, s.id, "Très bien")
    return s


def _form(title: str = "Essai de traction", codes=(C1, C2), **extra) -> dict:
    data = {
        "title": title,
        "starts_on": "2025-11-03",
        "ends_on": "2025-11-07",
        "context": "Laboratoire",
        "actions": "Préparation des éprouvettes",
        "results": "Rapport",
        "learnings": "Normes",
        "competency_codes": list(codes),
    }
    data.update(extra)
    return data


def test_apprentice_creates_a_situation_through_the_form(client, db, settings, personas):
    p = personas
    login_as(client, db, settings, p.apprentice_a)
    page = client.get(f"/apprenticeships/{p.apprenticeship_a.id}/journal/new")
    assert page.status_code == 200
    assert 'name="competency_codes"' in page.text and "RNCP39303BC04" in page.text
    response = post_form(
        client, settings, f"/apprenticeships/{p.apprenticeship_a.id}/journal/new", _form()
    )
    assert response.status_code == 303
    situation = db.scalars(
        select(WorkSituation).options(selectinload(WorkSituation.competencies))
    ).one()
    assert response.headers["location"] == f"/work-situations/{situation.id}?notice=created"
    assert sorted(c.code for c in situation.competencies) == [C1, C2]
    detail = html.unescape(client.get(response.headers["location"]).text)
    assert "Essai de traction" in detail and "enregistrée comme brouillon" in detail


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "Un titre est obligatoire"),
        ({"title": "x" * 100_000}, "title", "200"),
        ({"ends_on": "2025-10-01"}, "ends_on", "date de fin"),
        ({"starts_on": "pas une date"}, "starts_on", "AAAA-MM-JJ"),
        ({"competency_codes": []}, "competency_codes", "au moins une compétence"),
        ({"competency_codes": ["RNCP39668BC01-C01"]}, "competency_codes", "RNCP39668BC01-C01"),
    ],
)
def test_bad_input_re_renders_the_form_with_the_message_and_keeps_the_input(
    client, db, settings, personas, change, field, message
):
    p = personas
    login_as(client, db, settings, p.apprentice_a)
    client.get("/")
    form = _form(**change)
    response = post_form(
        client, settings, f"/apprenticeships/{p.apprenticeship_a.id}/journal/new", form
    )
    assert response.status_code == 422
    text = html.unescape(response.text)
    error = text[text.index(f'id="err-{field}"') :]
    assert message in error[: error.index("</p>")]
    assert "Préparation des éprouvettes" in text  # what the user typed is still there
    assert db.scalar(select(func.count(WorkSituation.id))) == 0


def test_inline_validation_answers_out_of_band_messages(client, db, settings, personas):
    p = personas
    login_as(client, db, settings, p.apprentice_a)
    client.get("/")
    response = post_form(
        client,
        settings,
        f"/apprenticeships/{p.apprenticeship_a.id}/journal/validate",
        _form(title="", competency_codes=[]),
        headers=HX,
    )
    assert response.status_code == 200 and "<html" not in response.text
    assert 'id="err-title" class="field-error" hx-swap-oob="true" role="alert"' in response.text
    assert 'id="err-results" class="field-error" hx-swap-oob="true">' in response.text
    assert db.scalar(select(func.count(WorkSituation.id))) == 0


def test_list_filters_paging_and_htmx_fragment(client, db, settings, personas):
    p = personas
    for i in range(22):
        _situation(db, p, title=f"Situation {i:02d}", codes=(C1,) if i % 2 else (C2,))
    _situation(db, p, title="Revue de conception", status="submitted")
    login_as(client, db, settings, p.tutor_a)
    base = f"/apprenticeships/{p.apprenticeship_a.id}/journal"
    full = client.get(base)
    assert full.status_code == 200 and "<html" in full.text
    assert full.headers["Vary"] == "HX-Request"
    assert "23 situations de travail" in html.unescape(full.text)
    assert "Page 1 sur 2" in full.text
    fragment = client.get(f"{base}?status=submitted", headers=HX)
    assert "<html" not in fragment.text and "Revue de conception" in fragment.text
    assert "Situation 01" not in fragment.text
    assert "Situation 03" in client.get(f"{base}?block=RNCP39303BC01&q=situation").text
    searched = client.get(f"{base}?q=revue").text
    assert "Revue de conception" in searched and "Situation 01" not in searched
    assert client.get(f"{base}?page=2").status_code == 200
    assert client.get(f"{base}?status=bogus&block=zz").status_code == 200  # ignored


def test_tutor_acknowledges_or_asks_for_changes(client, db, settings, personas):
    p = personas
    first = _situation(db, p, title="A", status="submitted")
    second = _situation(db, p, title="B", status="submitted")
    login_as(client, db, settings, p.tutor_a)
    page = client.get(f"/work-situations/{first.id}").text
    assert "/request-changes" in page
    ok = post_form(client, settings, f"/work-situations/{first.id}/acknowledge", {"comment": ""})
    assert ok.status_code == 303
    missing = post_form(
        client, settings, f"/work-situations/{second.id}/request-changes", {"comment": "  "}
    )
    assert missing.status_code == 422 and 'aria-invalid="true"' in missing.text
    sent_back = post_form(
        client,
        settings,
        f"/work-situations/{second.id}/request-changes",
        {"comment": "Précise les résultats."},
    )
    assert sent_back.status_code == 303
    db.expire_all()
    assert db.get(WorkSituation, first.id).status is SituationStatus.ACKNOWLEDGED
    assert db.get(WorkSituation, second.id).status is SituationStatus.DRAFT


def test_apprentice_cannot_acknowledge_and_tutor_cannot_edit(client, db, settings, personas):
    p = personas
    s = _situation(db, p, status="submitted")
    login_as(client, db, settings, p.apprentice_a)
    assert (
        post_form(client, settings, f"/work-situations/{s.id}/acknowledge", {}).status_code == 403
    )
    d = _situation(db, p, title="Brouillon")
    client.cookies.clear()
    login_as(client, db, settings, p.tutor_a)
    assert (
        post_form(
            client, settings, f"/work-situations/{d.id}/edit", _form(version=str(d.version))
        ).status_code
        == 403
    )
    assert post_form(client, settings, f"/work-situations/{d.id}/submit", {}).status_code == 403


@pytest.mark.parametrize("who", ["tutor_b", "supervisor_b", "apprentice_b", "outsider"])
def test_others_get_404_on_every_journal_page(client, db, settings, personas, who):
    p = personas
    s = _situation(db, p)
    login_as(client, db, settings, getattr(p, who))
    client.get("/login")
    appr = p.apprenticeship_a.id
    for url in (
        f"/apprenticeships/{appr}/journal",
        f"/apprenticeships/{appr}/journal/new",
        f"/work-situations/{s.id}",
        f"/work-situations/{s.id}/edit",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/work-situations/{s.id}/submit",
        f"/work-situations/{s.id}/delete",
        f"/work-situations/{s.id}/acknowledge",
    ):
        assert post_form(client, settings, url, {}).status_code == 404, url


def test_edit_submit_and_delete_a_draft(client, db, settings, personas):
    p = personas
    s = _situation(db, p)
    login_as(client, db, settings, p.apprentice_a)
    form = client.get(f"/work-situations/{s.id}/edit")
    assert form.status_code == 200 and f'value="{s.version}"' in form.text
    saved = post_form(
        client,
        settings,
        f"/work-situations/{s.id}/edit",
        _form(title="Titre corrigé", version=str(s.version)),
    )
    assert saved.status_code == 303
    stale = post_form(
        client,
        settings,
        f"/work-situations/{s.id}/edit",
        _form(title="Encore", version=str(s.version)),
    )
    assert stale.status_code == 409
    assert post_form(client, settings, f"/work-situations/{s.id}/submit", {}).status_code == 303
    other_id = _situation(db, p, title="À supprimer").id
    deleted = post_form(client, settings, f"/work-situations/{other_id}/delete", {})
    assert deleted.status_code == 303
    assert not db.scalar(select(func.count()).where(WorkSituation.id == other_id))


def test_upload_with_htmx_and_without(client, db, settings, personas):
    p = personas
    s = _situation(db, p)
    login_as(client, db, settings, p.apprentice_a)
    client.get("/")
    url = f"/work-situations/{s.id}/attachments"
    token = csrf_for(client, settings)
    response = client.post(
        url,
        files={"file": ("plan.png", io.BytesIO(PNG), "image/png")},
        headers={**HX, "X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    assert "<html" not in response.text and "plan.png" in response.text
    plain = client.post(
        url, data={"csrf_token": token}, files={"file": ("plan2.png", io.BytesIO(PNG), "image/png")}
    )
    assert plain.status_code == 303
    bad = client.post(
        url,
        files={"file": ("x.pdf", io.BytesIO(b"MZ not a pdf"), "application/pdf")},
        headers={**HX, "X-CSRF-Token": token},
    )
    assert bad.status_code in (415, 422) and bad.headers["HX-Retarget"] == "#messages"
    assert db.scalar(select(func.count(Attachment.id))) == 2
