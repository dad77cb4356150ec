"""Reminder digests (``livret remind``): one per person and day, built from the pending
actions, with a copy to the supervisor for reviews long overdue; last reminders on the
dashboard."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import Settings
from app.db import make_engine
from app.i18n import translate
from app.models import OutboxMessage, ReminderLog, SemesterReview
from app.services.journal import situations as journal
from app.services.journal.situations import SituationInput
from app.services.notifications import reminders
from tests.factories import make_apprenticeship, make_user
from tests.helpers import Personas, login_as
from tests.mailbox import BASE_URL, outbox

TODAY = date(2025, 10, 1)  # semester 1 (from 2025-09-01) is under way
NOW = datetime(2025, 10, 1, 6, 30, tzinfo=UTC)
BC1 = "RNCP39303BC01-C01"


@pytest.fixture
def remind_settings(settings: Settings, db: Session) -> Settings:
    configured = settings.model_copy(update={"base_url": BASE_URL})
    db.info["settings"] = configured
    return configured


def _people(p: Personas) -> set[int]:
    return {
        u.id
        for u in (
            p.apprentice_a,
            p.tutor_a,
            p.supervisor_a,
            p.apprentice_b,
            p.tutor_b,
            p.supervisor_b,
        )
    }


def _digests(db: Session) -> list[OutboxMessage]:
    return outbox(db, kind="reminder_digest")


def test_a_second_run_the_same_day_sends_nothing(db, remind_settings, personas):
    first = reminders.send_reminders(db, remind_settings, TODAY, now=NOW)
    digests = _digests(db)
    assert first.reminded == 6
    assert {m.recipient_id for m in digests} == _people(personas)
    assert personas.admin.id not in {m.recipient_id for m in digests}  # nothing awaits them
    assert personas.outsider.id not in {m.recipient_id for m in digests}

    second = reminders.send_reminders(db, remind_settings, TODAY, now=NOW + timedelta(hours=3))
    assert (second.reminded, second.already_reminded) == (0, 6)
    assert len(_digests(db)) == 6

    next_day = reminders.send_reminders(db, remind_settings, TODAY + timedelta(days=1))
    assert next_day.reminded == 6
    assert len(_digests(db)) == 12


def test_the_log_row_is_unique_per_person_and_day(db, personas):
    assert reminders._claim_today(db, personas.tutor_a, TODAY, NOW, 1) is not None
    assert reminders._claim_today(db, personas.tutor_a, TODAY, NOW, 1) is None  # a racing run
    assert reminders._claim_today(db, personas.tutor_a, TODAY + timedelta(days=1), NOW, 1)
    count = db.scalar(
        select(func.count(ReminderLog.id)).where(ReminderLog.user_id == personas.tutor_a.id)
    )
    assert count == 2


def test_the_digest_lists_the_pending_actions_with_links(db, remind_settings, personas):
    p = personas
    situation = journal.create_situation(
        db, p.apprentice_a, p.apprenticeship_a.id, SituationInput("Audit", TODAY, TODAY, [BC1])
    )
    journal.submit(db, p.apprentice_a, situation.id)
    p.tutor_a.locale = "en"
    db.flush()
    reminders.send_reminders(db, remind_settings, TODAY, now=NOW)

    [tutor_digest] = outbox(db, kind="reminder_digest", to=p.tutor_a.email)
    assert tutor_digest.locale == "en"
    assert tutor_digest.subject == "Livret: 2 actions await you"
    assert "Apprenticeship of Alice Apprentie" in tutor_digest.text_body
    assert "1 work situation to acknowledge" in tutor_digest.text_body
    assert "Semester 1 review: your assessment is missing" in tutor_digest.text_body
    journal_url = f"{BASE_URL}/apprenticeships/{p.apprenticeship_a.id}/journal"
    review_url = f"{BASE_URL}/apprenticeships/{p.apprenticeship_a.id}/reviews/1"
    assert journal_url in tutor_digest.text_body and review_url in tutor_digest.html_body

    [apprentice_digest] = outbox(db, kind="reminder_digest", to=p.apprentice_a.email)
    assert apprentice_digest.locale == "fr"
    assert review_url in apprentice_digest.text_body
    assert "livret numérique d'apprentissage" in apprentice_digest.text_body
    log = db.scalars(select(ReminderLog).where(ReminderLog.user_id == p.tutor_a.id)).one()
    assert (log.reminded_on, log.sent_at, log.items, log.escalated) == (TODAY, NOW, 2, False)


def test_inactive_people_are_not_reminded(db, remind_settings, personas):
    personas.tutor_a.is_active = False
    db.flush()
    reminders.send_reminders(db, remind_settings, TODAY, now=NOW)
    assert personas.tutor_a.id not in {m.recipient_id for m in _digests(db)}


def _first_review_end(db: Session, personas: Personas) -> date:
    return db.scalars(
        select(SemesterReview.ends_on).where(
            SemesterReview.apprenticeship_id == personas.apprenticeship_a.id,
            SemesterReview.semester == 1,
        )
    ).one()


def test_reviews_long_overdue_copy_the_supervisor(db, remind_settings, personas):
    p = personas
    deadline = _first_review_end(db, p) + timedelta(days=remind_settings.review_overdue_days)
    # Exactly 14 days past the deadline: not yet.
    reminders.send_reminders(db, remind_settings, deadline + timedelta(days=14))
    assert outbox(db, kind="reminder_copy") == []

    day = deadline + timedelta(days=15)
    report = reminders.send_reminders(db, remind_settings, day)
    copies = outbox(db, kind="reminder_copy")
    # Each apprenticeship's supervisor, once for the apprentice and once for the tutor; the
    # supervisors' own overdue items do not copy themselves.
    assert report.copies == 4
    to_a = [m for m in copies if m.recipient_id == p.supervisor_a.id]
    assert len(to_a) == 2
    subject = translate("fr", "Copy of a reminder: overdue reviews for %(person)s")
    assert sorted(m.subject for m in to_a) == sorted(
        subject % {"person": u.full_name} for u in (p.apprentice_a, p.tutor_a)
    )
    review_url = f"{BASE_URL}/apprenticeships/{p.apprenticeship_a.id}/reviews/1"
    assert all(review_url in m.text_body for m in to_a)
    assert all(
        f"{BASE_URL}/apprenticeships/{p.apprenticeship_b.id}" not in m.text_body for m in to_a
    )
    escalated = db.scalars(
        select(ReminderLog.user_id).where(ReminderLog.reminded_on == day, ReminderLog.escalated)
    ).all()
    assert set(escalated) == {p.apprentice_a.id, p.tutor_a.id, p.apprentice_b.id, p.tutor_b.id}


def test_supervisor_dashboard_shows_when_people_were_last_reminded(
    client, db, settings, remind_settings, personas
):
    reminders.send_reminders(db, remind_settings, TODAY, now=NOW)
    login_as(client, db, settings, personas.supervisor_a)
    page = client.get("/dashboard").text
    assert "Dernière relance" in page or "Last reminder" in page
    assert f'<time datetime="{NOW.isoformat()}">2025-10-01</time>' in page
    exported = client.get("/dashboard.csv").content.decode("utf-8-sig").splitlines()
    assert exported[0].endswith(
        ",Dernière relance (Apprenti·e),Dernière relance (Tuteur·rice)"
    ) or ("Last reminder" in exported[0])
    assert exported[1].endswith(",2025-10-01,2025-10-01")
    assert reminders.last_reminded(db, [personas.apprentice_a.id, personas.admin.id]) == {
        personas.apprentice_a.id: NOW
    }


# --- The command line, against a real SQLite file --------------------------------------------

runner = CliRunner()


def test_livret_remind_twice_queues_one_digest_per_person(tmp_path: Path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'remind.db'}"
    monkeypatch.setenv("LIVRET_DATABASE_URL", url)
    monkeypatch.setenv("LIVRET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LIVRET_BASE_URL", BASE_URL)
    for command in (["db", "upgrade"], ["seed", "referentials"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 0, result.output
    engine = make_engine(url)
    with Session(engine) as session:
        tutor = make_user(session, name="Tom Tuteur")
        make_apprenticeship(session, tutor=tutor)
        make_apprenticeship(session, tutor=tutor)  # one tutor, two apprentices: one digest
        session.commit()

    first = runner.invoke(cli, ["remind"])
    assert first.exit_code == 0, first.output
    assert "Reminders: 5 queued, 0 already reminded" in first.output
    second = runner.invoke(cli, ["remind", "--send"])
    assert second.exit_code == 0, second.output
    assert "Reminders: 0 queued, 5 already reminded" in second.output
    with Session(engine) as session:
        queued = session.scalars(select(OutboxMessage)).all()
        digests = [m for m in queued if m.kind == "reminder_digest"]
        assert len(digests) == 5
        assert all(BASE_URL in m.text_body for m in queued)
        # No SMTP host in development: everything went to the outbox folder.
        assert f"Mail: {len(queued)} sent" in second.output
    engine.dispose()
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(queued)
    again = runner.invoke(cli, ["mail", "send-pending"])
    assert again.exit_code == 0 and "Mail: 0 sent" in again.output
