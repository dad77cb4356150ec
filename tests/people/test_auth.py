"""Login, sessions, throttling, CSRF and the audit trail of authentication."""

from __future__ import annotations

import html
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AuditEvent, AuthSession, LoginFailure, User
from app.models.base import utcnow
from app.services.people.auth import purge_expired, token_digest
from app.web.csrf import SESSION_COOKIE
from tests.factories import PASSWORD, make_user
from tests.helpers import count_rows, csrf_for, login_as


def _login(client: TestClient, settings: Settings, email: str, password: str, **extra: str):
    client.get("/login")
    data = {"email": email, "password": password, "csrf_token": csrf_for(client, settings)}
    data.update(extra)
    return client.post("/login", data=data)


def test_login_page_serves_a_form_with_csrf(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.text
    assert "Connexion à Livret" in response.text  # French by default


def test_anonymous_home_redirects_to_login(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_correct_password_opens_a_session_and_redirects(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_user(db, email="ok@test.example")
    response = _login(client, settings, "OK@test.example ", PASSWORD, next="/referentials")
    assert response.status_code == 303
    assert response.headers["location"] == "/referentials"
    cookie = response.cookies.get(SESSION_COOKIE)
    assert cookie
    set_cookie = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in set_cookie if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    stored = db.get(AuthSession, token_digest(cookie))
    assert stored is not None and stored.user_id == user.id
    assert count_rows(db, AuditEvent, AuditEvent.action == "auth.login") == 1


def test_login_rotates_the_session_id(client: TestClient, db: Session, settings: Settings) -> None:
    user = make_user(db)
    login_as(client, db, settings, user)
    old = client.cookies.get(SESSION_COOKIE)
    response = _login(client, settings, user.email, PASSWORD)
    new = response.cookies.get(SESSION_COOKIE)
    assert new and new != old
    assert db.get(AuthSession, token_digest(old)) is None


def test_open_redirect_is_refused(client: TestClient, db: Session, settings: Settings) -> None:
    user = make_user(db)
    response = _login(client, settings, user.email, PASSWORD, next="//evil.example/x")
    assert response.headers["location"] == "/"


def test_wrong_password_shows_the_form_again_without_session(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_user(db)
    response = _login(client, settings, user.email, "wrong password")
    assert response.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in response.text
    assert SESSION_COOKIE not in response.cookies
    assert count_rows(db, AuthSession, AuthSession.user_id == user.id) == 0
    assert count_rows(db, AuditEvent, AuditEvent.action == "auth.login_failed") == 1


def test_unknown_account_fails_the_same_way(client: TestClient, settings: Settings) -> None:
    response = _login(client, settings, "nobody@test.example", PASSWORD)
    assert response.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in response.text


def test_inactive_account_cannot_log_in(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_user(db, is_active=False)
    assert _login(client, settings, user.email, PASSWORD).status_code == 401


def test_sixth_failure_in_a_row_is_throttled_even_with_the_right_password(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_user(db)
    for _ in range(5):
        assert _login(client, settings, user.email, "nope nope").status_code == 401
    response = _login(client, settings, user.email, "nope nope")
    assert response.status_code == 429
    assert "Trop d'échecs de connexion" in html.unescape(response.text)
    assert response.headers["Retry-After"] == "900"
    assert _login(client, settings, user.email, PASSWORD).status_code == 429
    assert count_rows(db, AuditEvent, AuditEvent.action == "auth.login_throttled") == 2


def test_throttling_expires_after_the_window(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_user(db)
    for _ in range(5):
        _login(client, settings, user.email, "nope nope")
    for failure in db.scalars(select(LoginFailure).where(LoginFailure.email == user.email)):
        failure.attempted_at = utcnow() - timedelta(minutes=16)
    db.flush()
    response = _login(client, settings, user.email, PASSWORD)
    assert response.status_code == 303
    assert count_rows(db, LoginFailure, LoginFailure.email == user.email) == 0


def test_throttle_message_in_english(client: TestClient, db: Session, settings: Settings) -> None:
    user = make_user(db)
    client.cookies.set("livret_lang", "en")
    for _ in range(6):
        response = _login(client, settings, user.email, "nope nope")
    assert response.status_code == 429
    assert "Too many failed attempts for this account" in response.text


def test_post_without_csrf_token_is_refused_and_writes_nothing(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_user(db)
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": "bad password"})
    assert response.status_code == 403
    assert count_rows(db, LoginFailure) == 0
    assert count_rows(db, AuditEvent, AuditEvent.actor_email == user.email) == 0


def test_post_with_a_forged_csrf_token_is_refused(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_user(db, locale="fr")
    login_as(client, db, settings, user)
    response = client.post("/language", data={"locale": "en", "csrf_token": "0" * 64})
    assert response.status_code == 403
    db.expire_all()
    assert db.get(User, user.id).locale == "fr"


def test_csrf_header_is_accepted_for_htmx(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_user(db, locale="fr")
    login_as(client, db, settings, user)
    response = client.post(
        "/language", data={"locale": "en"}, headers={"X-CSRF-Token": csrf_for(client, settings)}
    )
    assert response.status_code == 303
    db.expire_all()
    assert db.get(User, user.id).locale == "en"


def test_logout_deletes_the_session(client: TestClient, db: Session, settings: Settings) -> None:
    user = make_user(db)
    login_as(client, db, settings, user)
    token = client.cookies.get(SESSION_COOKIE)
    response = client.post("/logout", data={"csrf_token": csrf_for(client, settings)})
    assert response.status_code == 303
    assert db.get(AuthSession, token_digest(token)) is None
    client.cookies.set(SESSION_COOKIE, token)  # replaying the old cookie gets nowhere
    assert client.get("/").status_code == 303
    assert count_rows(db, AuditEvent, AuditEvent.action == "auth.logout") == 1


def test_idle_session_expires(client: TestClient, db: Session, settings: Settings) -> None:
    user = make_user(db)
    login_as(client, db, settings, user)
    stored = db.get(AuthSession, token_digest(client.cookies.get(SESSION_COOKIE)))
    stored.last_seen_at = utcnow() - timedelta(minutes=31)
    db.flush()
    assert client.get("/").status_code == 303
    assert purge_expired(db, settings) == 1
    db.expire_all()
    assert db.get(AuthSession, stored.id) is None


def test_absolute_expiry_applies_even_to_an_active_session(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_user(db)
    login_as(client, db, settings, user)
    stored = db.get(AuthSession, token_digest(client.cookies.get(SESSION_COOKIE)))
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    assert client.get("/").status_code == 303


def test_active_session_within_limits_is_kept(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_user(db)
    login_as(client, db, settings, user)
    stored = db.get(AuthSession, token_digest(client.cookies.get(SESSION_COOKIE)))
    stored.last_seen_at = utcnow() - timedelta(minutes=29)
    db.flush()
    assert client.get("/").status_code == 200
    db.refresh(stored)
    assert utcnow() - stored.last_seen_at < timedelta(minutes=1)  # touched


def test_deactivated_user_loses_their_session(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_user(db)
    login_as(client, db, settings, user)
    user.is_active = False
    db.flush()
    assert client.get("/").status_code == 303
