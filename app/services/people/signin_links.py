"""Sign-in links by email (for company tutors) and the emailed codes that let such a session
sign a review.

Sign-in links
    Offered to tutors (users who are tutor of at least one apprenticeship), or to everyone when
    ``LIVRET_SIGNIN_LINKS_FOR_EVERYONE`` is true. Asking for a link always gets the same answer,
    whether or not the address has an account (no account enumeration). A link carries a
    random token (only its SHA-256 is stored), is bound to one user, expires after
    ``LIVRET_SIGNIN_LINK_MINUTES`` (30) and works once. At most
    ``LIVRET_SIGNIN_LINK_MAX_PER_WINDOW`` (3) links per account per
    ``LIVRET_SIGNIN_LINK_WINDOW_MINUTES`` (15); an account locked by failed logins gets none
    either. Opening the link shows a confirmation page; only its POST uses the token, so mail
    scanners that fetch links do not burn it. The session it opens has ``auth_method="link"``.

Signing from a link session
    Such a session proves control of the mailbox, not knowledge of the password, and many
    tutors have no password at all. So it signs with a 6-digit code emailed on request
    (:func:`send_sign_code`), bound to the user, the review and the role, valid
    ``LIVRET_SIGN_CODE_MINUTES`` (10), single use, tried at most :data:`CODE_MAX_FAILURES`
    times, and at most ``LIVRET_SIGNIN_LINK_MAX_PER_WINDOW`` codes per window. It may **not**
    sign with the password: the signature method then always matches how the session was
    opened ("email_code" for link sessions, "password" otherwise), and a forwarded or stolen
    link cannot be turned into a password-guessing form. Password sessions keep signing with
    the password, unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Apprenticeship, RatingSource, SignCode, SignInLink, User
from app.models.base import utcnow
from app.services import audit
from app.services.access import Party, require_party
from app.services.errors import Conflict, Forbidden, TooManyRequests
from app.services.notifications import outbox as mail
from app.services.people.auth import is_throttled, normalise_email, token_digest
from app.services.reviews import workflow as review_service

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


# --- Codes to sign a review from a link session -----------------------------------------------


def _code_digest(
    settings: Settings, user_id: int, review_id: int, role: Party | str, code: str
) -> str:
    message = f"sign-code:{user_id}:{review_id}:{Party(role).value}:{code}"
    return hmac.new(
        settings.effective_secret_key.encode(), message.encode(), hashlib.sha256
    ).hexdigest()


def send_sign_code(
    session: Session,
    settings: Settings,
    actor: User,
    apprenticeship_id: int,
    semester: int,
    role: Party,
    *,
    auth_method: str,
    ip: str | None = None,
) -> None:
    """Email ``actor`` a one-time code to sign this review in ``role`` (link sessions only)."""
    detail = review_service.load_detail(session, actor, apprenticeship_id, semester)
    require_party(actor, detail.apprenticeship, role)
    if auth_method != "link":
        raise Forbidden("Emailed codes are for sessions opened with a sign-in link.")
    if detail.review.is_locked:
        raise Conflict("This review is signed and locked; it can no longer be changed.")
    if not detail.agreed_complete:
        raise Conflict('Every competency needs an agreed level (or "not observed") before signing.')
    if any(s.role == RatingSource(role.value) for s in detail.active_signatures):
        raise Conflict("This review is already signed in this role.")
    now = utcnow()
    window = settings.signin_link_window_minutes
    recent = (
        session.scalar(
            select(func.count(SignCode.id)).where(
                SignCode.user_id == actor.id,
                SignCode.created_at >= now - timedelta(minutes=window),
            )
        )
        or 0
    )
    if recent >= settings.signin_link_max_per_window:
        raise TooManyRequests(
            "Too many codes were asked for. Wait {minutes} minutes, then try again.",
            minutes=window,
        )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(
        SignCode(
            user_id=actor.id,
            review_id=detail.review.id,
            role=role.value,
            code_hash=_code_digest(settings, actor.id, detail.review.id, role, code),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.sign_code_minutes),
        )
    )
    session.flush()
    mail.enqueue(
        session,
        actor,
        "sign_code",
        {
            "code": code,
            "minutes": settings.sign_code_minutes,
            "semester": semester,
            "apprentice_name": detail.apprenticeship.apprentice.full_name,
        },
        settings=settings,
    )
    audit.record(
        session,
        "review.sign_code_sent",
        actor=actor,
        entity_type="semester_review",
        entity_id=detail.review.id,
        ip=ip,
        details={"role": role.value, "semester": semester},
    )


def verify_sign_code(
    session: Session, settings: Settings, actor: User, review_id: int, role: Party, code: str
) -> bool:
    """Check a code for (actor, review, role). A match uses up every pending code of that
    triple; a miss counts against each of them, and a code missed too often stops working."""
    now = utcnow()
    candidates = session.scalars(
        select(SignCode)
        .where(
            SignCode.user_id == actor.id,
            SignCode.review_id == review_id,
            SignCode.role == role.value,
            SignCode.used_at.is_(None),
            SignCode.expires_at > now,
            SignCode.failed_attempts < CODE_MAX_FAILURES,
        )
        .with_for_update()
    ).all()
    cleaned = "".join(code.split())
    digest = _code_digest(settings, actor.id, review_id, role, cleaned)
    matched = any(hmac.compare_digest(c.code_hash, digest) for c in candidates)
    for candidate in candidates:
        if matched:
            candidate.used_at = now
        else:
            candidate.failed_attempts += 1
    session.flush()
    return matched
