"""Email notifications through a real SMTP server (aiosmtpd, in-process): who gets what, in
which language, with which links; the outbox's retries, backoff and give-up; and requests
that never wait for (or fail because of) the mail server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import translate
from app.models import MailStatus, OutboxMessage, Party, WorkSituation
from app.models.base import utcnow
from app.services.journal import situations as journal
from app.services.journal.situations import SituationInput
from app.services.notifications import outbox as mail
from app.services.notifications import sender
from app.services.reviews import workflow as review_service
from app.services.reviews.workflow import RatingInput
from tests.factories import PASSWORD, make_user
from tests.helpers import Personas, bearer
from tests.mailbox import (
    BASE_URL,
    Collector,
    app_with,
    free_port,
    outbox,
    session_factory,
    smtp_server,
    with_smtp,
)

BC1 = "RNCP39303BC01-C01"
FOOTER_FR = "Livret — livret numérique d'apprentissage"  # already in the French catalog
FOOTER_EN = "Livret — digital apprenticeship portfolio"


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mail_settings(settings: Settings, smtp: tuple[Collector, int]) -> Settings:
    return with_smtp(settings, smtp[1])


@pytest.fixture
def inbox(smtp: tuple[Collector, int]) -> Collector:
    return smtp[0]


@pytest.fixture
def mail_db(db: Session, mail_settings: Settings) -> Session:
    """The test session, carrying the settings like the app's sessions do."""
    db.info["settings"] = mail_settings
    return db


def send(connection: Connection, settings: Settings, **kwargs) -> sender.SendReport:
    return sender.send_pending(session_factory(connection, settings), settings, **kwargs)


def submitted_situation(db: Session, p: Personas, title: str = "Gearbox housing") -> WorkSituation:
    situation = journal.create_situation(
        db,
        p.apprentice_a,
        p.apprenticeship_a.id,
        SituationInput(title, date(2025, 10, 1), date(2025, 11, 15), [BC1]),
    )
    return journal.submit(db, p.apprentice_a, situation.id)


# --- Events, recipients, language, links ------------------------------------------------------


def test_submitted_situation_emails_the_tutor_in_french_with_a_link(
    mail_db, connection, mail_settings, personas, inbox
):
    situation = submitted_situation(mail_db, personas)
    queued = outbox(mail_db)
    assert [(m.kind, m.recipient_id) for m in queued] == [
        ("situation_submitted", personas.tutor_a.id)
    ]
    assert queued[0].status == MailStatus.PENDING  # queued in the transaction, not sent

    report = send(connection, mail_settings)

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [received] = inbox.received
    assert received.rcpt_tos == [personas.tutor_a.email]
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert message["Content-Language"] == "fr"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == translate(
        "fr",
        "%(apprentice)s submitted a work situation: %(title)s",
    ) % {"apprentice": "Alice Apprentie", "title": "Gearbox housing"}
    link = f"{BASE_URL}/work-situations/{situation.id}"
    assert link in received.text and f'href="{link}"' in received.html
    assert "1 octobre 2025" in received.text  # dates in the recipient's language
    assert FOOTER_FR in received.text and FOOTER_FR in received.html
    assert outbox(mail_db)[0].status == MailStatus.SENT
    assert outbox(mail_db)[0].sent_at is not None


def test_english_recipients_get_english_mail(mail_db, connection, mail_settings, personas, inbox):
    personas.tutor_a.locale = "en"
    mail_db.flush()
    submitted_situation(mail_db, personas, title="Paint <shop> & co")
    send(connection, mail_settings)
    [received] = inbox.received
    assert received.message["Content-Language"] == "en"
    assert received.message["Subject"] == (
        "Alice Apprentie submitted a work situation: Paint <shop> & co"
    )
    assert "Hello Thomas Tuteur," in received.text
    assert "from October 1, 2025 to November 15, 2025" in received.text
    assert FOOTER_EN in received.text
    assert "Paint &lt;shop&gt; &amp; co" in received.html  # escaped in HTML only
    assert "Paint <shop> & co" in received.text


def test_acknowledgement_and_requested_changes_go_to_the_apprentice(
    mail_db, connection, mail_settings, personas, inbox
):
    first = submitted_situation(mail_db, personas, "First")
    second = submitted_situation(mail_db, personas, "Second")
    journal.acknowledge(mail_db, personas.tutor_a, first.id, "Très bien.")
    journal.request_changes(mail_db, personas.tutor_a, second.id, "Ajoutez les résultats.")
    send(connection, mail_settings)
    to_apprentice = inbox.to(personas.apprentice_a.email)
    assert len(to_apprentice) == 2
    acknowledged, sent_back = to_apprentice
    assert "First" in acknowledged.message["Subject"]
    assert "Très bien." in acknowledged.text
    assert "Second" in sent_back.message["Subject"]
    assert "Ajoutez les résultats." in sent_back.text and "Ajoutez les résultats." in sent_back.html
    assert f"{BASE_URL}/work-situations/{second.id}" in sent_back.text
    assert len(inbox.to(personas.tutor_a.email)) == 2  # the two submissions


def _competency_ids(db: Session, personas: Personas) -> list[int]:
    detail = review_service.load_detail(db, personas.admin, personas.apprenticeship_a.id, 1)
    return [c.id for c in detail.referential.competencies]


def _agree(db: Session, actor, personas: Personas, ids: list[int], level: int = 3) -> None:
    detail = review_service.load_detail(db, actor, personas.apprenticeship_a.id, 1)
    review_service.save_agreed(
        db,
        actor,
        personas.apprenticeship_a.id,
        1,
        version=detail.review.version,
        ratings=[RatingInput(cid, level) for cid in ids],
    )


def test_review_ready_voided_and_locked_messages(
    mail_db, connection, mail_settings, personas, inbox
):
    p = personas
    review_url = f"{BASE_URL}/apprenticeships/{p.apprenticeship_a.id}/reviews/1"
    ids = _competency_ids(mail_db, p)
    _agree(mail_db, p.tutor_a, p, ids[:-1])
    assert outbox(mail_db) == []  # not complete yet: nobody is asked to sign
    _agree(mail_db, p.tutor_a, p, ids[-1:])
    ready = outbox(mail_db, kind="review_ready_to_sign")
    # The two other parties; the tutor who completed it is on the page already.
    assert {m.recipient_id for m in ready} == {p.apprentice_a.id, p.supervisor_a.id}
    assert all(review_url in m.text_body for m in ready)

    review_service.sign(
        mail_db,
        mail_settings,
        p.supervisor_a,
        p.apprenticeship_a.id,
        1,
        Party.SUPERVISOR,
        password=PASSWORD,
    )
    _agree(mail_db, p.apprentice_a, p, ids[:1], level=2)  # voids the supervisor's signature
    voided = outbox(mail_db, kind="signature_voided")
    assert [m.recipient_id for m in voided] == [p.supervisor_a.id]
    assert "Alice Apprentie" in voided[0].text_body  # who voided it
    # Still complete: nobody is told again that it is ready.
    assert len(outbox(mail_db, kind="review_ready_to_sign")) == 2

    for user, role in (
        (p.apprentice_a, Party.APPRENTICE),
        (p.tutor_a, Party.TUTOR),
        (p.supervisor_a, Party.SUPERVISOR),
    ):
        review_service.sign(
            mail_db, mail_settings, user, p.apprenticeship_a.id, 1, role, password=PASSWORD
        )
    locked = outbox(mail_db, kind="review_locked")
    assert {m.recipient_id for m in locked} == {
        p.apprentice_a.id,
        p.tutor_a.id,
        p.supervisor_a.id,
    }
    send(connection, mail_settings)
    assert len(inbox.received) == len(outbox(mail_db))
    assert all(m.status == MailStatus.SENT for m in outbox(mail_db))
    to_supervisor = [r.message["Subject"] for r in inbox.to(p.supervisor_a.email)]
    assert len(to_supervisor) == 3  # ready, voided, locked


def test_admin_reopening_tells_the_signers(mail_db, mail_settings, personas):
    p = personas
    _agree(mail_db, p.tutor_a, p, _competency_ids(mail_db, p))
    for user, role in (
        (p.apprentice_a, Party.APPRENTICE),
        (p.tutor_a, Party.TUTOR),
        (p.supervisor_a, Party.SUPERVISOR),
    ):
        review_service.sign(
            mail_db, mail_settings, user, p.apprenticeship_a.id, 1, role, password=PASSWORD
        )
    review_service.reopen(mail_db, p.admin, p.apprenticeship_a.id, 1, reason="Typo in S1")
    voided = outbox(mail_db, kind="signature_voided")
    assert {m.recipient_id for m in voided} == {
        p.apprentice_a.id,
        p.tutor_a.id,
        p.supervisor_a.id,
    }
    assert all("Typo in S1" in m.text_body for m in voided)


def test_invalid_or_inactive_recipients_are_logged_not_queued(mail_db, personas, caplog):
    personas.tutor_a.email = "not an address"
    mail_db.flush()
    with caplog.at_level(logging.INFO, logger="livret.mail"):
        submitted_situation(mail_db, personas)
    assert outbox(mail_db) == []
    assert "invalid email address" in caplog.text
    inactive = make_user(mail_db, is_active=False)
    assert mail.enqueue(mail_db, inactive, "signin_link", {"path": "/x", "minutes": 30}) is None


# --- Retries, backoff, giving up --------------------------------------------------------------


def test_a_refusing_server_leaves_the_message_queued_for_a_later_retry(
    mail_db, connection, mail_settings, personas, inbox
):
    submitted_situation(mail_db, personas)
    inbox.reply = "451 4.3.0 Try again later"
    before = utcnow()
    report = send(connection, mail_settings)
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    [message] = outbox(mail_db)
    assert message.status == MailStatus.PENDING
    assert message.attempts == 1
    assert message.next_attempt_at >= before + timedelta(seconds=60)
    assert "451" in (message.last_error or "")
    assert inbox.received == []

    # Not due yet: a sender running now leaves it alone.
    assert send(connection, mail_settings).handled == 0
    # Due again, still refused: the wait doubles.
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    mail_db.flush()
    before = utcnow()
    send(connection, mail_settings)
    [message] = outbox(mail_db)
    assert message.attempts == 2
    assert message.next_attempt_at >= before + timedelta(seconds=120)

    # The server recovers: the next due round delivers it.
    inbox.reply = None
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    mail_db.flush()
    assert send(connection, mail_settings).sent == 1
    [message] = outbox(mail_db)
    assert message.status == MailStatus.SENT and message.attempts == 3
    assert message.last_error is None
    assert len(inbox.received) == 1


def test_after_the_last_attempt_the_message_is_marked_failed(
    mail_db, connection, mail_settings, personas, inbox
):
    settings = mail_settings.model_copy(update={"mail_max_attempts": 2})
    submitted_situation(mail_db, personas)
    inbox.reply = "451 4.3.0 Try again later"
    send(connection, settings)
    message = outbox(mail_db)[0]
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    mail_db.flush()
    report = send(connection, settings)
    assert report.failed == 1
    [message] = outbox(mail_db)
    assert message.status == MailStatus.FAILED and message.attempts == 2


def test_a_recipient_refused_for_good_fails_at_once(mail_db, connection, mail_settings, personas):
    class RefuseRecipients(Collector):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 No such user"

    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(RefuseRecipients(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = with_smtp(mail_settings, port)
        submitted_situation(mail_db, personas)
        assert send(connection, settings).failed == 1
    finally:
        controller.stop()
    [message] = outbox(mail_db)
    assert message.status == MailStatus.FAILED and message.attempts == 1


def test_backoff_doubles_and_is_capped(settings: Settings) -> None:
    assert sender.backoff(settings, 1) == timedelta(seconds=60)
    assert sender.backoff(settings, 2) == timedelta(seconds=120)
    assert sender.backoff(settings, 4) == timedelta(seconds=480)
    assert sender.backoff(settings, 30) == timedelta(hours=6)


def test_a_claimed_message_is_not_sent_twice(mail_db, connection, mail_settings, personas, inbox):
    """What a second sender sees while the first one is sending: nothing to claim, until the
    first one's lease has passed (it died mid-way)."""
    submitted_situation(mail_db, personas)
    factory = session_factory(connection, mail_settings)
    first = sender._claim(factory, utcnow(), 10)
    assert len(first) == 1
    assert sender._claim(factory, utcnow(), 10) == []
    assert send(connection, mail_settings).handled == 0
    assert inbox.received == []
    later = utcnow() + sender.CLAIM_LEASE + timedelta(seconds=1)
    assert send(connection, mail_settings, now=later).sent == 1
    assert len(inbox.received) == 1
    assert outbox(mail_db)[0].attempts == 2


def test_claims_skip_locked_rows(mail_db, connection, mail_settings) -> None:
    compiled = str(
        select(OutboxMessage)
        .with_for_update(skip_locked=True)
        .compile(dialect=connection.engine.dialect)
    )
    if connection.dialect.name == "postgresql":
        assert "FOR UPDATE SKIP LOCKED" in compiled
    else:
        assert "FOR UPDATE" not in compiled  # SQLite serialises writers instead


# --- Requests never wait for the mail server --------------------------------------------------


def test_submitting_succeeds_while_smtp_is_down_and_the_mail_waits(
    db, connection, settings, personas
):
    down = with_smtp(settings, free_port())  # nothing listens there
    client = TestClient(app_with(down, connection), follow_redirects=False)
    headers = bearer(db, personas.apprentice_a)
    created = client.post(
        f"/api/v1/apprenticeships/{personas.apprenticeship_a.id}/work-situations",
        json={
            "title": "Line balancing",
            "starts_on": "2025-10-01",
            "ends_on": "2025-10-20",
            "competency_codes": [BC1],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    submitted = client.post(
        f"/api/v1/work-situations/{created.json()['id']}/submit", headers=headers
    )
    assert submitted.status_code == 200
    [message] = outbox(db)
    assert message.kind == "situation_submitted" and message.status == MailStatus.PENDING
    assert f"{BASE_URL}/work-situations/{created.json()['id']}" in message.text_body

    report = send(connection, down)
    assert report.retried == 1
    [message] = outbox(db)
    assert message.status == MailStatus.PENDING and message.attempts == 1
    assert message.next_attempt_at > utcnow()
    assert "ConnectionRefusedError" in (message.last_error or "")


def test_the_test_app_starts_no_background_sender(settings: Settings) -> None:
    assert settings.mail_sender_interval_seconds == 0
    assert Settings(environment="development").mail_sender_interval_seconds == 60
    explicit = Settings(environment="development", mail_sender_interval_seconds=5)
    assert explicit.mail_sender_interval_seconds == 5


# --- Without an SMTP server -------------------------------------------------------------------


def test_without_smtp_host_mail_goes_to_the_outbox_folder_and_the_log(
    db, connection, settings, personas, caplog
):
    assert settings.smtp_host == ""
    db.info["settings"] = settings
    submitted_situation(db, personas)
    with caplog.at_level(logging.INFO, logger="livret.mail"):
        report = send(connection, settings)
    assert report.sent == 1
    [message] = outbox(db)
    files = sorted(settings.outbox_dir.glob(f"*-{message.id}-situation_submitted.eml"))
    assert len(files) == 1
    content = files[0].read_bytes()
    assert personas.tutor_a.email.encode() in content
    assert "no SMTP host" in caplog.text and message.subject in caplog.text


def test_in_production_without_smtp_host_mail_stays_queued(db, connection, settings, personas):
    production = settings.model_copy(update={"environment": "production"})
    db.info["settings"] = production
    submitted_situation(db, personas)
    report = send(connection, production)
    assert report.left_queued >= 1 and report.handled == 0
    assert outbox(db)[0].status == MailStatus.PENDING


# --- The server's background sender -----------------------------------------------------------


def test_background_sender_delivers_and_survives_a_failing_round(
    mail_db, connection, mail_settings, personas, inbox, caplog
):
    """One loop of run_sender per call of its (injected) sleep: a round that fails is logged
    and the next round delivers. The sleep is passed in, never patched into ``asyncio``: a
    patched ``asyncio.sleep`` would also be called by every other event loop of the test
    process (the browser tests' live server ticks with it) and could eat the stop signal."""
    import asyncio
    import concurrent.futures

    submitted_situation(mail_db, personas)
    factory = session_factory(connection, mail_settings)
    calls = {"factory": 0, "sleeps": 0}

    def flaky_factory() -> Session:
        calls["factory"] += 1
        if calls["factory"] == 1:
            raise RuntimeError("database is restarting")
        return factory()

    async def two_rounds(seconds: float) -> None:
        assert seconds == 60  # the test settings set no interval: the default applies
        calls["sleeps"] += 1
        if calls["sleeps"] == 2:
            raise asyncio.CancelledError  # stop after two rounds, as the lifespan does

    def run_in_own_loop() -> None:
        # A fresh thread, hence a fresh event loop of its own, whatever the main thread holds.
        asyncio.run(sender.run_sender(flaky_factory, mail_settings, sleep=two_rounds))

    with (
        caplog.at_level(logging.INFO, logger="livret.mail"),
        pytest.raises(asyncio.CancelledError),
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool,
    ):
        pool.submit(run_in_own_loop).result(timeout=60)
    assert calls["sleeps"] == 2 and calls["factory"] >= 2
    assert "Mail sender round failed" in caplog.text
    assert len(inbox.received) == 1
    assert outbox(mail_db)[0].status == MailStatus.SENT


# --- Housekeeping -----------------------------------------------------------------------------


def test_purge_deletes_only_old_finished_messages(db: Session) -> None:
    now = utcnow()
    old, recent = now - timedelta(days=91), now - timedelta(days=89)

    def message(status: MailStatus, created_at) -> OutboxMessage:
        row = OutboxMessage(
            to_address="someone@example.org",
            locale="fr",
            kind="situation_submitted",
            subject=f"{status} {created_at:%Y-%m-%d}",
            text_body="-",
            html_body="-",
            status=status,
            created_at=created_at,
        )
        db.add(row)
        return row

    doomed = [message(MailStatus.SENT, old), message(MailStatus.FAILED, old)]
    kept = [
        message(MailStatus.SENT, recent),
        message(MailStatus.FAILED, recent),
        message(MailStatus.PENDING, old),  # still to deliver, however old
        message(MailStatus.SENDING, old),
    ]
    db.flush()
    assert mail.purge_finished(db, now) == 2
    remaining = {m.id for m in outbox(db)}
    assert remaining >= {m.id for m in kept}
    assert not remaining & {m.id for m in doomed}
