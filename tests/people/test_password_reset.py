"""Forgot password: the same answer for every address, a single-use 30-minute link, throttling
per address and per IP, and a reset that ends every other session and revokes API tokens."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AccountLink, ApiToken, AuditEvent, AuthSession, ThrottleEvent, User
from app.models.base import utcnow
from app.services.errors import TooManyRequests
from app.services.people import password_reset
from app.services.people.auth import LoginOutcome, authenticate
from tests.factories import PASSWORD
from tests.helpers import Personas, bearer, count_rows, csrf_for, login_as
from tests.mailbox import BASE_URL, app_with, outbox

NEW_PASSWORD = "trois pommes vertes au marché"
LINK = re.compile(re.escape(BASE_URL) + r"(/password/reset/[A-Za-z0-9_-]{40,})")


@pytest.fixture
def reset_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"base_url": BASE_URL})


@pytest.fixture
def web(reset_settings: Settings, connection) -> Iterator[TestClient]:
    with TestClient(app_with(reset_settings, connection), follow_redirects=False) as client:
        client.cookies.set("livret_lang", "en")
        yield client


def ask(client: TestClient, settings: Settings, email: str):
    client.get("/password/forgot")
    return client.post(
        "/password/forgot", data={"email": email, "csrf_token": csrf_for(client, settings)}
    )


def reset_path(db: Session, email: str) -> str:
    message = outbox(db, kind="password_reset", to=email)[-1]
    match = LINK.search(message.text_body)
    assert match, message.text_body
    return match.group(1)


def choose(client: TestClient, settings: Settings, path: str, password: str = NEW_PASSWORD):
    page = client.get(path)
    if page.status_code != 200:
        return page
    return client.post(
        path,
        data={"password": password, "confirm": password, "csrf_token": csrf_for(client, settings)},
    )


def test_sign_in_page_links_to_forgot_password(web: TestClient) -> None:
    assert 'href="/password/forgot"' in web.get("/login").text


def test_known_and_unknown_addresses_get_the_same_answer(
    web: TestClient, db: Session, reset_settings: Settings, personas: Personas
) -> None:
    known = ask(web, reset_settings, personas.apprentice_a.email.upper())
    unknown = ask(web, reset_settings, "nobody@nowhere.example")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/password/forgot/sent"
    assert outbox(db, kind="password_reset", to="nobody@nowhere.example") == []
    assert len(outbox(db, kind="password_reset", to=personas.apprentice_a.email)) == 1
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "auth.reset_requested" in actions and "auth.reset_refused" in actions
    sent = web.get("/password/forgot/sent")
    assert sent.status_code == 200 and "30 minutes" in sent.text


def test_the_link_works_once_ends_the_old_sessions_and_revokes_api_tokens(
    web: TestClient, db: Session, connection, reset_settings: Settings, personas: Personas
) -> None:
    person = personas.tutor_a
    with TestClient(app_with(reset_settings, connection), follow_redirects=False) as old:
        login_as(old, db, reset_settings, person)
        assert old.get("/").status_code in (200, 303)
        headers = bearer(db, person)
        assert old.get("/api/v1/me", headers=headers).status_code == 200
        assert ask(web, reset_settings, person.email).status_code == 303
        path = reset_path(db, person.email)
        page = web.get(path)
        assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
        done = choose(web, reset_settings, path)
        assert done.status_code == 303 and done.headers["location"] == "/"
        # The old browser session and the API token are gone; the new session works.
        old_home = old.get("/")
        assert old_home.status_code == 303 and old_home.headers["location"].startswith("/login")
        assert old.get("/api/v1/me", headers=headers).status_code == 401
    assert count_rows(db, ApiToken) == 0
    sessions = db.scalars(select(AuthSession).where(AuthSession.user_id == person.id)).all()
    assert len(sessions) == 1  # the one the reset opened
    assert web.get("/").status_code in (200, 303)
    db.expire_all()  # the reset happened in the app's own session
    assert (
        authenticate(db, reset_settings, person.email, NEW_PASSWORD, None).outcome
        is LoginOutcome.OK
    )
    assert (
        authenticate(db, reset_settings, person.email, PASSWORD, None).outcome
        is not LoginOutcome.OK
    )
    # Once only.
    again = choose(web, reset_settings, path, "another long pass phrase here")
    assert again.status_code == 400 and "déjà été utilisé" in html.unescape(
        again.text
    )  # signed in: the person's language
    assert 'action="/password/forgot"' in again.text
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.password_reset")).one()
    assert event.entity_id == str(person.id)
    assert event.details["tokens_deleted"] == 1 and event.details["sessions_deleted"] >= 1


def test_the_link_expires_after_thirty_minutes(
    web: TestClient, db: Session, reset_settings: Settings, personas: Personas
) -> None:
    ask(web, reset_settings, personas.apprentice_a.email)
    path = reset_path(db, personas.apprentice_a.email)
    link = db.scalars(select(AccountLink)).one()
    assert link.expires_at - link.created_at == timedelta(minutes=30)
    db.execute(update(AccountLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.flush()
    page = web.get(path)
    assert page.status_code == 400 and "expired" in page.text
    assert 'action="/password/forgot"' in page.text  # a new one is offered


def test_the_sixth_request_in_the_window_is_throttled_known_or_not(
    web: TestClient, db: Session, reset_settings: Settings, personas: Personas
) -> None:
    limit = reset_settings.password_reset_max_per_window
    assert limit == 5
    for email in (personas.apprentice_b.email, "ghost@nowhere.example"):
        answers = [ask(web, reset_settings, email).status_code for _ in range(limit + 1)]
        assert answers == [303] * limit + [429]
    throttled = ask(web, reset_settings, "ghost@nowhere.example")
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    assert "Too many requests" in html.unescape(throttled.text)
    assert len(outbox(db, kind="password_reset", to=personas.apprentice_b.email)) == limit
    # Another address still gets through.
    assert ask(web, reset_settings, personas.apprentice_a.email).status_code == 303


def test_requests_are_throttled_per_ip_too(
    db: Session, reset_settings: Settings, personas: Personas
) -> None:
    strict = reset_settings.model_copy(update={"password_reset_max_per_ip": 3})
    for n in range(3):
        password_reset.request_reset(db, strict, f"someone{n}@nowhere.example", ip="203.0.113.9")
    with pytest.raises(TooManyRequests):
        password_reset.request_reset(db, strict, personas.apprentice_a.email, ip="203.0.113.9")
    password_reset.request_reset(db, strict, personas.apprentice_a.email, ip="198.51.100.1")
    assert len(outbox(db, kind="password_reset", to=personas.apprentice_a.email)) == 1


def test_the_window_ends_by_itself(db: Session, reset_settings: Settings) -> None:
    for _ in range(5):
        password_reset.request_reset(db, reset_settings, "late@nowhere.example", ip=None)
    with pytest.raises(TooManyRequests):
        password_reset.request_reset(db, reset_settings, "late@nowhere.example", ip=None)
    db.execute(update(ThrottleEvent).values(created_at=utcnow() - timedelta(minutes=61)))
    password_reset.request_reset(db, reset_settings, "late@nowhere.example", ip=None)


def test_weak_passwords_are_refused_with_the_reason(
    web: TestClient, db: Session, reset_settings: Settings, personas: Personas
) -> None:
    ask(web, reset_settings, personas.apprentice_a.email)
    path = reset_path(db, personas.apprentice_a.email)
    common = choose(web, reset_settings, path, "motdepasse123")
    assert common.status_code == 422 and 'id="password-error"' in common.text
    reason = re.search(r'id="password-error">([^<]+)<', common.text)
    assert reason and reason.group(1).strip()
    short = choose(web, reset_settings, path, "Abcdefgh1!x")
    assert short.status_code == 422
    assert "at least 12 characters" in html.unescape(short.text)
    assert choose(web, reset_settings, path).status_code == 303  # the link survived


def test_the_mail_is_in_the_persons_language(
    web: TestClient, db: Session, reset_settings: Settings, personas: Personas
) -> None:
    personas.apprentice_a.locale = "en"
    personas.apprentice_b.locale = "fr"
    db.flush()
    ask(web, reset_settings, personas.apprentice_a.email)
    ask(web, reset_settings, personas.apprentice_b.email)
    [english] = outbox(db, kind="password_reset", to=personas.apprentice_a.email)
    [french] = outbox(db, kind="password_reset", to=personas.apprentice_b.email)
    assert english.subject == "Choose a new Livret password"
    assert french.subject == "Choisissez un nouveau mot de passe Livret"


def test_a_deactivated_account_gets_nothing(
    web: TestClient, db: Session, reset_settings: Settings, personas: Personas
) -> None:
    personas.outsider.is_active = False
    db.flush()
    assert ask(web, reset_settings, personas.outsider.email).status_code == 303
    assert outbox(db, kind="password_reset", to=personas.outsider.email) == []


def test_an_invited_person_who_lost_the_invitation_may_use_forgot_password(
    web: TestClient, db: Session, reset_settings: Settings, personas: Personas
) -> None:
    person: User = personas.outsider
    person.password_hash = None
    db.flush()
    ask(web, reset_settings, person.email)
    assert choose(web, reset_settings, reset_path(db, person.email)).status_code == 303
    db.refresh(person)
    assert person.password_hash is not None
