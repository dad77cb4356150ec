"""Sign-in links by email for company tutors, and signing a review from such a session with
an emailed one-time code (never with the password)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import (
    AuditEvent,
    AuthSession,
    LoginFailure,
    OutboxMessage,
    Party,
    Signature,
    SignCode,
    SignInLink,
)
from app.models.base import utcnow
from app.services.errors import Conflict, Forbidden, NotFound
from app.services.notifications import sender
from app.services.people.auth import token_digest
from app.services.reviews import sign_codes
from app.services.reviews import workflow as review_service
from app.services.reviews.workflow import RatingInput
from app.web.csrf import SESSION_COOKIE
from tests.factories import PASSWORD
from tests.helpers import Personas, count_rows, csrf_for, login_as
from tests.mailbox import BASE_URL, app_with, outbox

NEUTRAL = "/login/link/sent"
TUTOR = Party.TUTOR


@pytest.fixture
def link_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"base_url": BASE_URL})


@pytest.fixture
def web(link_settings: Settings, connection) -> TestClient:
    with TestClient(app_with(link_settings, connection), follow_redirects=False) as client:
        yield client


def ask_link(client: TestClient, settings: Settings, email: str):
    client.get("/login")
    return client.post(
        "/login/link", data={"email": email, "csrf_token": csrf_for(client, settings)}
    )


def link_token(db: Session, email: str) -> str:
    message = outbox(db, kind="signin_link", to=email)[-1]
    match = re.search(re.escape(BASE_URL) + r"/login/link/([A-Za-z0-9_-]{40,})", message.text_body)
    assert match, message.text_body
    return match.group(1)


def use_link(client: TestClient, settings: Settings, token: str):
    page = client.get(f"/login/link/{token}")
    if page.status_code != 200:
        return page
    return client.post(f"/login/link/{token}", data={"csrf_token": csrf_for(client, settings)})


# --- Asking for a link ------------------------------------------------------------------------


def test_login_page_offers_a_sign_in_link(web: TestClient) -> None:
    page = web.get("/login").text
    assert 'action="/login/link"' in page and 'id="link-email"' in page


def test_a_tutor_receives_a_link_that_works_once(web, db, link_settings, personas):
    tutor = personas.tutor_a
    response = ask_link(web, link_settings, tutor.email.upper())
    assert response.status_code == 303 and response.headers["location"] == NEUTRAL
    [message] = outbox(db, kind="signin_link")
    assert message.recipient_id == tutor.id and message.locale == "fr"
    token = link_token(db, tutor.email)
    stored = db.scalars(select(SignInLink).where(SignInLink.user_id == tutor.id)).one()
    assert stored.token_hash == token_digest(token) and token not in stored.token_hash
    assert stored.expires_at - stored.created_at == timedelta(minutes=30)

    # Opening the link (as a mail scanner would) does not use it.
    for _ in range(2):
        confirm = web.get(f"/login/link/{token}")
        assert confirm.status_code == 200
        assert f'action="/login/link/{token}"' in confirm.text
    assert db.get(SignInLink, stored.id).used_at is None  # type: ignore[union-attr]

    signed_in = web.post(f"/login/link/{token}", data={"csrf_token": csrf_for(web, link_settings)})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    cookie = signed_in.cookies.get(SESSION_COOKIE)
    auth_session = db.get(AuthSession, token_digest(cookie))
    assert auth_session is not None
    assert (auth_session.user_id, auth_session.auth_method) == (tutor.id, "link")
    assert web.get("/").status_code == 200
    assert count_rows(
        db, AuditEvent, AuditEvent.action == "auth.login", AuditEvent.actor_id == tutor.id
    )

    # Second use: refused, and no new session.
    web.cookies.clear()
    again = use_link(web, link_settings, token)
    assert again.status_code == 400
    assert SESSION_COOKIE not in again.cookies
    forced = web.post(f"/login/link/{token}", data={"csrf_token": csrf_for(web, link_settings)})
    assert forced.status_code == 400 and SESSION_COOKIE not in forced.cookies


def test_an_expired_link_is_refused(web, db, link_settings, personas):
    ask_link(web, link_settings, personas.tutor_a.email)
    token = link_token(db, personas.tutor_a.email)
    link = db.scalars(select(SignInLink)).one()
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    assert web.get(f"/login/link/{token}").status_code == 400
    refused = web.post(f"/login/link/{token}", data={"csrf_token": csrf_for(web, link_settings)})
    assert refused.status_code == 400
    assert "a expiré" in html.unescape(refused.text) or "expired" in refused.text
    assert count_rows(db, AuthSession, AuthSession.user_id == personas.tutor_a.id) == 0
    assert count_rows(db, AuditEvent, AuditEvent.action == "auth.link_rejected") == 1


def test_a_mistyped_token_is_refused(web, link_settings):
    assert use_link(web, link_settings, "x" * 43).status_code == 400


@pytest.mark.parametrize("who", ["unknown", "apprentice", "supervisor", "admin", "inactive"])
def test_others_get_the_same_answer_and_no_link(db, connection, link_settings, personas, who):
    """With links restricted to tutors (and, whatever the setting, for unknown or deactivated
    accounts) the answer is the same and nothing is sent."""
    tutors_only = link_settings.model_copy(update={"signin_links_for_everyone": False})
    email = {
        "unknown": "nobody@test.example",
        "apprentice": personas.apprentice_a.email,
        "supervisor": personas.supervisor_a.email,
        "admin": personas.admin.email,
        "inactive": personas.tutor_b.email,
    }[who]
    if who == "inactive":
        personas.tutor_b.is_active = False
        db.flush()
    with TestClient(app_with(tutors_only, connection), follow_redirects=False) as client:
        response = ask_link(client, tutors_only, email)
    assert (response.status_code, response.headers["location"]) == (303, NEUTRAL)
    assert outbox(db) == []
    assert count_rows(db, SignInLink) == 0
    assert count_rows(db, AuditEvent, AuditEvent.action == "auth.link_refused") == 1


@pytest.mark.parametrize("who", ["unknown", "inactive"])
def test_unknown_and_deactivated_accounts_get_no_link_by_default(
    web, db, link_settings, personas, who
):
    email = {"unknown": "nobody@test.example", "inactive": personas.tutor_b.email}[who]
    personas.tutor_b.is_active = False
    db.flush()
    response = ask_link(web, link_settings, email)
    assert (response.status_code, response.headers["location"]) == (303, NEUTRAL)
    assert outbox(db) == []


def test_the_answer_page_is_the_same_for_everyone(web, db, link_settings, personas):
    page = web.get(NEUTRAL)
    assert page.status_code == 200
    assert "30 minutes" in page.text


@pytest.mark.parametrize("who", ["apprentice_a", "supervisor_a", "admin"])
def test_every_role_asks_for_a_sign_in_link_and_receives_one(web, db, link_settings, personas, who):
    person = getattr(personas, who)
    ask_link(web, link_settings, person.email)
    assert [m.recipient_id for m in outbox(db, kind="signin_link")] == [person.id]
    response = use_link(web, link_settings, link_token(db, person.email))
    assert response.status_code == 303


def test_links_are_throttled_per_account(web, db, link_settings, personas):
    email = personas.tutor_a.email
    for _ in range(4):
        assert ask_link(web, link_settings, email).headers["location"] == NEUTRAL
    assert len(outbox(db, kind="signin_link")) == 3
    assert count_rows(db, AuditEvent, AuditEvent.action == "auth.link_throttled") == 1
    for link in db.scalars(select(SignInLink)):
        link.created_at = utcnow() - timedelta(minutes=16)
    db.flush()
    ask_link(web, link_settings, email)
    assert len(outbox(db, kind="signin_link")) == 4


def test_an_account_locked_by_failed_logins_gets_no_link(web, db, link_settings, personas):
    for _ in range(5):
        db.add(LoginFailure(email=personas.tutor_a.email))
    db.flush()
    ask_link(web, link_settings, personas.tutor_a.email)
    assert outbox(db) == []


def test_the_link_mail_is_in_english_for_english_users(web, db, link_settings, personas):
    personas.tutor_a.locale = "en"
    db.flush()
    ask_link(web, link_settings, personas.tutor_a.email)
    [message] = outbox(db, kind="signin_link")
    assert message.subject == "Your sign-in link for Livret"
    assert "expires in 30 minutes" in message.text_body


# --- Signing a review from a link session -----------------------------------------------------


def review_url(p: Personas, suffix: str = "") -> str:
    return f"/apprenticeships/{p.apprenticeship_a.id}/reviews/1{suffix}"


@pytest.fixture
def agreed(db: Session, personas: Personas) -> None:
    detail = review_service.load_detail(db, personas.admin, personas.apprenticeship_a.id, 1)
    review_service.save_agreed(
        db,
        personas.supervisor_a,
        personas.apprenticeship_a.id,
        1,
        version=detail.review.version,
        ratings=[RatingInput(c.id, 3) for c in detail.referential.competencies],
    )


@pytest.fixture
def tutor_by_link(web, db, link_settings, personas, agreed) -> TestClient:
    ask_link(web, link_settings, personas.tutor_a.email)
    assert use_link(web, link_settings, link_token(db, personas.tutor_a.email)).status_code == 303
    return web


def post(client: TestClient, settings: Settings, url: str, data: dict):
    return client.post(url, data={**data, "csrf_token": csrf_for(client, settings)})


def last_code(db: Session, email: str) -> str:
    message = outbox(db, kind="sign_code", to=email)[-1]
    match = re.search(r"^\s+(\d{6})\s*$", message.text_body, re.MULTILINE)
    assert match, message.text_body
    return match.group(1)


def signatures(db: Session) -> list[Signature]:
    return list(db.scalars(select(Signature).execution_options(populate_existing=True)))


def test_link_session_signs_with_an_emailed_code_only(tutor_by_link, db, link_settings, personas):
    client, p = tutor_by_link, personas
    page = html.unescape(client.get(review_url(p)).text)
    assert 'name="code"' in page and 'name="password"' not in page
    assert f'formaction="{review_url(p, "/sign/code")}"' in page

    # The password path is closed to a session opened with a link.
    refused = post(
        client, link_settings, review_url(p, "/sign"), {"role": "tutor", "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert signatures(db) == []

    # Without a code sent, any code is wrong.
    wrong = post(client, link_settings, review_url(p, "/sign"), {"role": "tutor", "code": "123456"})
    assert wrong.status_code == 403 and signatures(db) == []

    sent = post(client, link_settings, review_url(p, "/sign/code"), {"role": "tutor"})
    assert sent.status_code == 303
    assert sent.headers["location"] == review_url(p, "?code_sent=true#signatures")
    notice = html.unescape(client.get(sent.headers["location"]).text)
    assert "10 minutes" in notice
    code = last_code(db, p.tutor_a.email)
    [message] = outbox(db, kind="sign_code")
    assert message.recipient_id == p.tutor_a.id
    assert code in message.text_body and code in message.html_body
    assert code not in message.subject  # not on lock screens
    stored = db.scalars(select(SignCode)).one()
    assert code not in stored.code_hash
    assert (stored.user_id, stored.role) == (p.tutor_a.id, "tutor")
    assert stored.expires_at - stored.created_at == timedelta(minutes=10)

    bad = "000000" if code != "000000" else "111111"
    wrong = post(client, link_settings, review_url(p, "/sign"), {"role": "tutor", "code": bad})
    assert wrong.status_code == 403 and signatures(db) == []
    assert "code" in html.unescape(wrong.text).lower()
    assert (
        db.scalars(select(SignCode).execution_options(populate_existing=True)).one().failed_attempts
        == 1
    )

    ok = post(client, link_settings, review_url(p, "/sign"), {"role": "tutor", "code": code})
    assert ok.status_code == 303
    [signature] = signatures(db)
    assert (signature.signer_id, signature.role.value, signature.method) == (
        p.tutor_a.id,
        "tutor",
        "email_code",
    )
    used = db.scalars(select(SignCode).execution_options(populate_existing=True)).one()
    assert used.used_at is not None


def test_an_expired_code_is_refused(tutor_by_link, db, link_settings, personas):
    client, p = tutor_by_link, personas
    post(client, link_settings, review_url(p, "/sign/code"), {"role": "tutor"})
    code = last_code(db, p.tutor_a.email)
    stored = db.scalars(select(SignCode)).one()
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    response = post(client, link_settings, review_url(p, "/sign"), {"role": "tutor", "code": code})
    assert response.status_code == 403 and signatures(db) == []


def test_a_code_is_bound_to_its_review_role_and_person(tutor_by_link, db, link_settings, personas):
    """A code for the tutor does not sign as anyone else, nor another review."""
    client, p = tutor_by_link, personas
    post(client, link_settings, review_url(p, "/sign/code"), {"role": "tutor"})
    code = last_code(db, p.tutor_a.email)
    review_id = db.scalars(select(SignCode.review_id)).one()
    assert (
        sign_codes.verify_sign_code(db, link_settings, p.tutor_a, review_id + 1, TUTOR, code)
        is False
    )
    assert (
        sign_codes.verify_sign_code(db, link_settings, p.supervisor_a, review_id, TUTOR, code)
        is False
    )
    # The right triple still works (the misses above touched no code of this triple).
    assert sign_codes.verify_sign_code(db, link_settings, p.tutor_a, review_id, TUTOR, code)
    assert (
        sign_codes.verify_sign_code(db, link_settings, p.tutor_a, review_id, TUTOR, code) is False
    )


def test_a_code_stops_working_after_five_misses(tutor_by_link, db, link_settings, personas):
    client, p = tutor_by_link, personas
    post(client, link_settings, review_url(p, "/sign/code"), {"role": "tutor"})
    code = last_code(db, p.tutor_a.email)
    review_id = db.scalars(select(SignCode.review_id)).one()
    miss = "999999" if code != "999999" else "888888"
    for _ in range(5):
        assert not sign_codes.verify_sign_code(db, link_settings, p.tutor_a, review_id, TUTOR, miss)
    assert not sign_codes.verify_sign_code(db, link_settings, p.tutor_a, review_id, TUTOR, code)


def test_codes_are_throttled(tutor_by_link, db, link_settings, personas):
    client, p = tutor_by_link, personas
    for _ in range(3):
        assert (
            post(client, link_settings, review_url(p, "/sign/code"), {"role": "tutor"}).status_code
            == 303
        )
    throttled = post(client, link_settings, review_url(p, "/sign/code"), {"role": "tutor"})
    assert throttled.status_code == 429
    assert len(outbox(db, kind="sign_code")) == 3


def test_password_sessions_keep_the_password_and_get_no_codes(
    client, db, settings, personas, agreed
):
    p = personas
    login_as(client, db, settings, p.tutor_a)
    page = client.get(review_url(p)).text
    assert 'name="password"' in page and 'name="code"' not in page
    client.get("/login")
    assert post(client, settings, review_url(p, "/sign/code"), {"role": "tutor"}).status_code == 403
    with_code = post(client, settings, review_url(p, "/sign"), {"role": "tutor", "code": "123456"})
    assert with_code.status_code == 403
    assert outbox(db, kind="sign_code") == []
    ok = post(client, settings, review_url(p, "/sign"), {"role": "tutor", "password": PASSWORD})
    assert ok.status_code == 303
    assert [s.method for s in signatures(db)] == ["password"]


def test_who_may_ask_for_a_code(db, link_settings, personas, agreed):
    p = personas

    def ask(user, role, appr=p.apprenticeship_a):
        sign_codes.send_sign_code(db, link_settings, user, appr.id, 1, role, auth_method="link")

    with pytest.raises(NotFound):
        ask(p.outsider, Party.TUTOR)
    with pytest.raises(NotFound):
        ask(p.tutor_b, Party.TUTOR)  # another apprenticeship's tutor
    with pytest.raises(Forbidden):
        ask(p.apprentice_a, Party.TUTOR)
    with pytest.raises(Conflict):
        ask(p.tutor_b, Party.TUTOR, p.apprenticeship_b)  # nothing agreed there yet
    ask(p.tutor_a, Party.TUTOR)
    assert [m.recipient_id for m in outbox(db, kind="sign_code")] == [p.tutor_a.id]
    assert count_rows(db, OutboxMessage) >= 1


def test_outsider_with_a_link_session_gets_404(
    web, db, connection, link_settings, personas, agreed
):
    everyone = link_settings.model_copy(update={"signin_links_for_everyone": True})
    with TestClient(app_with(everyone, connection), follow_redirects=False) as client:
        ask_link(client, everyone, personas.outsider.email)
        use_link(client, everyone, link_token(db, personas.outsider.email))
        response = post(client, everyone, review_url(personas, "/sign/code"), {"role": "tutor"})
    assert response.status_code == 404
    assert outbox(db, kind="sign_code") == []


def test_the_link_travels_by_smtp_and_is_not_kept_in_the_outbox(
    db, connection, link_settings, personas
):
    from tests.mailbox import session_factory, smtp_server, with_smtp

    with smtp_server() as (inbox, port):
        settings = with_smtp(link_settings, port)
        with TestClient(app_with(settings, connection), follow_redirects=False) as client:
            ask_link(client, settings, personas.tutor_a.email)
            assert sender.send_pending(session_factory(connection, settings), settings).sent == 1
            [received] = inbox.received
            assert received.rcpt_tos == [personas.tutor_a.email]
            match = re.search(re.escape(BASE_URL) + r"/login/link/([\w-]{40,})", received.text)
            assert match and f'href="{match.group(0)}"' in received.html
            [stored] = outbox(db, kind="signin_link")
            assert stored.status.value == "sent"
            assert match.group(1) not in stored.text_body + stored.html_body
            assert stored.text_body == sender.REDACTED
            assert use_link(client, settings, match.group(1)).status_code == 303
