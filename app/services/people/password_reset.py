"""Forgot password: a self-service reset by email.

Asking always gets the same answer, whether or not the address has an account (no account
enumeration). Requests are throttled per address typed and per client IP
(``LIVRET_PASSWORD_RESET_MAX_PER_WINDOW``, 5, and ``LIVRET_PASSWORD_RESET_MAX_PER_IP``, 30, per
``LIVRET_PASSWORD_RESET_WINDOW_MINUTES``, 60), counted for unknown addresses too, so the
throttle tells nothing either. The link works once, for ``LIVRET_PASSWORD_RESET_MINUTES``
(30); an invited person who lost their invitation may use it to choose a first password.
Resetting ends every session of the account and revokes its API tokens, and is audited; the
mail is in the person's language.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import N_
from app.models import AccountLinkPurpose, User
from app.services import audit
from app.services.errors import TooManyRequests
from app.services.notifications import outbox as mail
from app.services.people import account_links, throttle
from app.services.people.auth import normalise_email, revoke_credentials

RESET = AccountLinkPurpose.RESET
THROTTLE_KIND = "password_reset"
THROTTLED = N_(
    "Too many requests for this address or from your network. Wait {minutes} minutes, then "
    "try again."
)


def allow_request(session: Session, settings: Settings, email: str, *, ip: str | None) -> bool:
    """Count one request for ``email`` from ``ip``; False when either is over its limit."""
    return throttle.allow(
        session,
        THROTTLE_KIND,
        {
            f"email:{normalise_email(email)}": settings.password_reset_max_per_window,
            f"ip:{ip}" if ip else "": settings.password_reset_max_per_ip,
        },
        window_minutes=settings.password_reset_window_minutes,
    )


def request_reset(session: Session, settings: Settings, email: str, *, ip: str | None) -> None:
    """Queue a reset link if ``email`` has an active account. Raises TooManyRequests when
    throttled; otherwise says nothing, whatever happened."""
    email = normalise_email(email)[: throttle.KEY_MAX]
    if not allow_request(session, settings, email, ip=ip):
        raise TooManyRequests(THROTTLED, minutes=settings.password_reset_window_minutes)
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    if user is None or not user.is_active:
        audit.record(
            session,
            "auth.reset_refused",
            actor_email=email,
            ip=ip,
            details={"reason": "unknown_account" if user is None else "inactive"},
        )
        return
    path = account_links.issue(session, settings, user, RESET, ip=ip)
    mail.enqueue(
        session,
        user,
        "password_reset",
        {"path": path, "minutes": settings.password_reset_minutes},
        settings=settings,
    )
    audit.record(
        session, "auth.reset_requested", actor=user, ip=ip, entity_type="user", entity_id=user.id
    )


def reset(
    session: Session, settings: Settings, token: str, password: str, confirm: str, *, ip: str | None
) -> User:
    """Set a new password with a reset link: every session of the account ends and its API
    tokens are revoked. The caller then opens a fresh session."""
    user = account_links.set_password_with(session, token, RESET, password, confirm)
    sessions, tokens = revoke_credentials(session, user)
    audit.record(
        session,
        "user.password_reset",
        actor=user,
        entity_type="user",
        entity_id=user.id,
        ip=ip,
        details={"sessions_deleted": sessions, "tokens_deleted": tokens},
    )
    return user
