"""Login, server-side sessions and login throttling."""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session, joinedload

from app.config import Settings
from app.i18n import N_
from app.models import ApiToken, AuthSession, LoginFailure, User
from app.models.base import utcnow
from app.services import access, audit
from app.services.errors import TooManyRequests
from app.services.people.passwords import verify_password

# Sessions are touched at most this often, so reads do not all become writes.
_TOUCH_INTERVAL = timedelta(seconds=60)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


class LoginOutcome(enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None


def recent_failures(session: Session, email: str, settings: Settings) -> int:
    since = utcnow() - timedelta(minutes=settings.login_failure_window_minutes)
    return (
        session.scalar(
            select(func.count(LoginFailure.id)).where(
                LoginFailure.email == email, LoginFailure.attempted_at >= since
            )
        )
        or 0
    )


THROTTLED_MESSAGE = N_(
    "Too many failed attempts for this account. Wait {minutes} minutes, then try again."
)


def is_throttled(session: Session, settings: Settings, email: str) -> bool:
    """Whether the account has used up its failures for the current window."""
    return recent_failures(session, email, settings) >= settings.login_max_failures


def throttled_error(settings: Settings) -> TooManyRequests:
    return TooManyRequests(THROTTLED_MESSAGE, minutes=settings.login_failure_window_minutes)


def authenticate(
    session: Session, settings: Settings, email: str, password: str, ip: str | None
) -> LoginResult:
    """Check credentials, with throttling per account over a sliding window.

    Once an account has ``login_max_failures`` failures within the window, every attempt is
    refused (even with the right password) until the oldest failure leaves the window: the
    lock-out always expires by itself.
    """
    email = normalise_email(email)
    if is_throttled(session, settings, email):
        audit.record(session, "auth.login_throttled", actor_email=email, ip=ip)
        return LoginResult(LoginOutcome.THROTTLED)
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.is_active:
        session.add(LoginFailure(email=email, ip=ip))
        audit.record(
            session,
            "auth.login_failed",
            actor_email=email,
            ip=ip,
            details={"reason": "inactive" if user and password_ok else "bad_credentials"},
        )
        session.flush()
        return LoginResult(LoginOutcome.INVALID)
    session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    audit.record(session, "auth.login", actor=user, ip=ip, entity_type="user", entity_id=user.id)
    return LoginResult(LoginOutcome.OK, user)


def open_session(
    session: Session,
    settings: Settings,
    user: User,
    *,
    ip: str | None,
    user_agent: str | None,
    method: str = "password",
) -> str:
    """Create a new server-side session and return the raw token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AuthSession(
            id=token_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_absolute_hours),
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
            auth_method=method,
        )
    )
    user.last_login_at = now
    session.flush()
    return token


def revoke_credentials(
    session: Session, user: User, *, keep_session: str | None = None
) -> tuple[int, int]:
    """Delete the user's browser sessions (except the one whose id is ``keep_session``) and
    API tokens; return how many of each."""
    sessions = session.scalars(
        select(AuthSession).where(
            AuthSession.user_id == user.id, AuthSession.id != (keep_session or "")
        )
    ).all()
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    for row in (*sessions, *tokens):
        session.delete(row)
    session.flush()
    return len(sessions), len(tokens)


@dataclass(frozen=True)
class LiveSession:
    """A browser session that is still valid, with what the pages need to know of its user
    (read in the same query)."""

    auth_session: AuthSession
    supervises: bool  # the user supervises at least one apprenticeship

    @property
    def user(self) -> User:
        return self.auth_session.user


def resolve_session(session: Session, settings: Settings, token: str) -> LiveSession | None:
    """Return the live session for a cookie token (with its user), or None.

    Expired sessions (idle or absolute) are deleted on sight."""
    row = session.execute(
        select(AuthSession, access.supervises_any(AuthSession.user_id))
        .where(AuthSession.id == token_digest(token))
        .options(joinedload(AuthSession.user))
    ).one_or_none()
    if row is None:
        return None
    auth_session, supervises = row
    now = utcnow()
    idle_limit = auth_session.last_seen_at + timedelta(minutes=settings.session_idle_minutes)
    if now >= auth_session.expires_at or now >= idle_limit or not auth_session.user.is_active:
        session.delete(auth_session)
        session.flush()
        return None
    if now - auth_session.last_seen_at >= _TOUCH_INTERVAL:
        auth_session.last_seen_at = now
    return LiveSession(auth_session, bool(supervises))


def close_session(session: Session, token: str, ip: str | None = None) -> None:
    auth_session = session.scalars(
        select(AuthSession)
        .where(AuthSession.id == token_digest(token))
        .options(joinedload(AuthSession.user))
    ).one_or_none()
    if auth_session is None:
        return
    audit.record(
        session,
        "auth.logout",
        actor=auth_session.user,
        ip=ip,
        entity_type="user",
        entity_id=auth_session.user_id,
    )
    session.delete(auth_session)
    session.flush()


def purge_expired(session: Session, settings: Settings) -> int:
    """Delete expired sessions and old login failures (housekeeping)."""
    now = utcnow()
    idle_cutoff = now - timedelta(minutes=settings.session_idle_minutes)
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(AuthSession).where(
            (AuthSession.expires_at <= now) | (AuthSession.last_seen_at <= idle_cutoff)
        )
    )
    removed = result.rowcount
    window_start = now - timedelta(minutes=settings.login_failure_window_minutes)
    session.execute(delete(LoginFailure).where(LoginFailure.attempted_at < window_start))
    return int(removed or 0)
