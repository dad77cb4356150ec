"""Deleting a draft and removing an evidence file go through a confirmation step: the GET
shows what will happen and the real button (htmx: a fragment; directly: a full page), only the
POST acts."""

from __future__ import annotations

import html

from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Attachment, SituationStatus, WorkSituation
from tests.factories import make_attachment, make_work_situation
from tests.helpers import HX, Personas, count_rows, login_as, post_form


def test_the_situation_page_leads_to_the_step_instead_of_deleting(
    client, db: Session, settings: Settings, personas: Personas
) -> None:
    situation = make_work_situation(db, personas.apprenticeship_a)
    attachment = make_attachment(db, personas.apprentice_a, work_situation=situation)
    login_as(client, db, settings, personas.apprentice_a)
    page = client.get(f"/work-situations/{situation.id}").text
    step = f"/work-situations/{situation.id}/delete"
    assert f'href="{step}"' in page and f'hx-get="{step}"' in page
    assert f'action="{step}"' not in page
    remove = f"/attachments/{attachment.id}/delete"
    assert f'href="{remove}"' in page and f'action="{remove}"' not in page


def test_delete_step_full_page_and_fragment_then_the_post_deletes(
    client, db: Session, settings: Settings, personas: Personas
) -> None:
    situation = make_work_situation(db, personas.apprenticeship_a, title="Essai de fatigue")
    make_attachment(db, personas.apprentice_a, work_situation=situation)
    login_as(client, db, settings, personas.apprentice_a)
    url = f"/work-situations/{situation.id}/delete"

    full = client.get(url)
    assert full.status_code == 200 and "<html" in full.text
    assert full.headers["Vary"] == "HX-Request"
    text = html.unescape(full.text)
    assert "Essai de fatigue" in text and f'action="{url}"' in text
    assert "1 fichier de preuve est supprimé avec lui." in text
    fragment = client.get(url, headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert '<div id="delete-draft"' in fragment.text and f'action="{url}"' in fragment.text
    assert count_rows(db, WorkSituation, WorkSituation.id == situation.id) == 1  # GET: nothing

    response = post_form(client, settings, url)
    assert response.status_code == 303
    assert count_rows(db, WorkSituation, WorkSituation.id == situation.id) == 0


def test_delete_step_of_a_submitted_situation_is_a_conflict(
    client, db: Session, settings: Settings, personas: Personas
) -> None:
    situation = make_work_situation(db, personas.apprenticeship_a, status=SituationStatus.SUBMITTED)
    login_as(client, db, settings, personas.apprentice_a)
    assert client.get(f"/work-situations/{situation.id}/delete").status_code == 409


def test_delete_step_refuses_the_tutor_and_hides_from_others(
    client, db: Session, settings: Settings, personas: Personas
) -> None:
    situation = make_work_situation(db, personas.apprenticeship_a)
    login_as(client, db, settings, personas.tutor_a)
    assert client.get(f"/work-situations/{situation.id}/delete").status_code == 403
    client.cookies.clear()
    login_as(client, db, settings, personas.apprentice_b)
    assert client.get(f"/work-situations/{situation.id}/delete").status_code == 404


def test_remove_file_step_then_the_post_removes(
    client, db: Session, settings: Settings, personas: Personas
) -> None:
    situation = make_work_situation(db, personas.apprenticeship_a)
    attachment = make_attachment(db, personas.apprentice_a, work_situation=situation)
    login_as(client, db, settings, personas.apprentice_a)
    url = f"/attachments/{attachment.id}/delete"
    full = client.get(url)
    assert full.status_code == 200 and "<html" in full.text
    assert attachment.filename in html.unescape(full.text) and f'action="{url}"' in full.text
    assert f'href="/work-situations/{situation.id}"' in full.text  # cancel goes back
    fragment = client.get(url, headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert f'action="{url}"' in fragment.text
    assert count_rows(db, Attachment, Attachment.id == attachment.id) == 1
    assert post_form(client, settings, url).status_code == 303
    assert count_rows(db, Attachment, Attachment.id == attachment.id) == 0
