"""Sign-in links by email (for company tutors) and the emailed codes that let such a session
sign a review.

Sign-in links
    Offered to every active account, or only to tutors (users who are tutor of at least one
    apprenticeship) when ``LIVRET_SIGNIN_LINKS_FOR_EVERYONE`` is false. Asking for a link
    always gets the same answer, whether or not the address has an account (no account
    enumeration). A link carries a
    random token (only its SHA-256 is stored), is bound to one user, expires after
    ``LIVRET_SIGNIN_LINK_MINUTES`` (30) and works once. At most
    ``LIVRET_SIGNIN_LINK_MAX_PER_WINDOW`` (3) links per account per
    ``LIVRET_SIGNIN_LINK_WINDOW_MINUTES`` (15); an account locked by failed logins gets none
    either. Opening the link shows a confirmation page; only its POST uses the token, so mail
    scanners that fetch links do not burn it. The session it opens has ``auth_method="link"``.

Signing from such a session is :mod:`app.services.reviews.sign_codes`.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Apprenticeship, SignCode, SignInLink, User
from app.models.base import utcnow
from app.services import audit
from app.services.notifications import outbox as mail
from app.services.people.auth import is_throttled, normalise_email, token_digest

log = logging.getLogger("livret.signin_links")

LINK_PATH = "/login/link/"
CODE_DIGITS = 6
CODE_MAX_FAILURES = 5
_KEEP_USED = timedelta(days=1)  # used or expired secrets are deleted after this


# --- Sign-in links ----------------------------------------------------------------------------


def is_eligible(session: Session, settings: Settings, user: User) -> bool:
    if not user.is_active:
        return False
    if settings.signin_links_for_everyone:
        return True
    return (
        session.scalar(select(Apprenticeship.id).where(Apprenticeship.tutor_id == user.id).limit(1))
        is not None
    )


def _purge(session: Session) -> None:
    cutoff = utcnow() - _KEEP_USED
    session.execute(delete(SignInLink).where(SignInLink.expires_at < cutoff))
    session.execute(delete(SignCode).where(SignCode.expires_at < cutoff))


def request_link(session: Session, settings: Settings, email: str, *, ip: str | None) -> None:
    """Queue a sign-in link to ``email`` if its account may have one. Says nothing either way:
    the caller shows the same answer whatever happened."""
    email = normalise_email(email)[:254]
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    if user is None or not is_eligible(session, settings, user):
        audit.record(
            session,
            "auth.link_refused",
            actor_email=email,
            ip=ip,
            details={"reason": "unknown_account" if user is None else "not_eligible"},
        )
        return
    since = utcnow() - timedelta(minutes=settings.signin_link_window_minutes)
    recent_links = (
        session.scalar(
            select(func.count(SignInLink.id)).where(
                SignInLink.user_id == user.id, SignInLink.created_at >= since
            )
        )
        or 0
    )
    if recent_links >= settings.signin_link_max_per_window or is_throttled(
        session, settings, email
    ):
        audit.record(
            session, "auth.link_throttled", actor=user, ip=ip, entity_type="user", entity_id=user.id
        )
        return
    _purge(session)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        SignInLink(
            token_hash=token_digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(minutes=settings.signin_link_minutes),
            ip=ip,
        )
    )
    session.flush()
    mail.enqueue(
        session,
        user,
        "signin_link",
        {"path": LINK_PATH + token, "minutes": settings.signin_link_minutes},
        settings=settings,
    )
    audit.record(
        session, "auth.link_requested", actor=user, ip=ip, entity_type="user", entity_id=user.id
    )


def _usable_link(session: Session, token: str) -> SignInLink | None:
    link = session.scalars(
        select(SignInLink).where(SignInLink.token_hash == token_digest(token))
    ).one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    return link


def link_is_usable(session: Session, token: str) -> bool:
    """Whether the confirmation page should offer to sign in (reading does not use the link)."""
    return _usable_link(session, token) is not None


def consume_link(session: Session, token: str, *, ip: str | None) -> User | None:
    """Use a link once: return its (active) user, or None if it is unknown, expired, already
    used or its account was deactivated. The caller opens the session."""
    link = _usable_link(session, token)
    user = session.get(User, link.user_id) if link is not None else None
    if link is not None and user is not None and user.is_active:
        # Conditional update: of two simultaneous uses, exactly one wins.
        result: CursorResult[tuple[()]] = session.execute(  # type: ignore[assignment]
            update(SignInLink)
            .where(SignInLink.id == link.id, SignInLink.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            audit.record(
                session,
                "auth.login",
                actor=user,
                ip=ip,
                entity_type="user",
                entity_id=user.id,
                details={"method": "link"},
            )
            return user
    audit.record(
        session,
        "auth.link_rejected",
        actor=user,
        ip=ip,
        entity_type="user" if user else None,
        entity_id=user.id if user else None,
    )
    return None
