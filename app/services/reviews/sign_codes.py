"""Codes that let a session opened with a sign-in link sign a review.

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
import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Party, SignCode, User
from app.models.base import utcnow
from app.services import audit
from app.services.errors import Forbidden, TooManyRequests
from app.services.notifications import outbox
from app.services.reviews.detail import load_detail, require_may_sign

CODE_DIGITS = 6
CODE_MAX_FAILURES = 5


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
    detail = load_detail(session, actor, apprenticeship_id, semester)
    if auth_method != "link":
        raise Forbidden("Emailed codes are for sessions opened with a sign-in link.")
    require_may_sign(detail, actor, role)
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
    outbox.enqueue(
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
