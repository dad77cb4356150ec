"""Bearer tokens for the JSON API: stored hashed, expiring, revocable."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.config import Settings
from app.models import ApiToken, User
from app.models.base import utcnow
from app.services import audit, validation
from app.services.errors import CredentialsRejected
from app.services.people.auth import LoginOutcome, authenticate, throttled_error, token_digest

TOKEN_PREFIX = "lvt_"  # noqa: S105 - a visible prefix, not a secret
_TOUCH_INTERVAL = timedelta(minutes=5)


def issue_token(
    session: Session,
    settings: Settings,
    *,
    email: str,
    password: str,
    name: str = "",
    ip: str | None = None,
) -> tuple[str, ApiToken]:
    """Check credentials (with the login throttle) and return a new raw token once."""
    result = authenticate(session, settings, email, password, ip)
    if result.outcome is LoginOutcome.THROTTLED:
        raise throttled_error(settings)
    if result.user is None:
        raise CredentialsRejected("Wrong email or password.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=token_digest(raw),
        user_id=result.user.id,
        name=validation.check_text("name", name)[:100],
        expires_at=utcnow() + timedelta(days=settings.api_token_days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        "api_token.issue",
        actor=result.user,
        entity_type="api_token",
        entity_id=token.id,
        ip=ip,
    )
    return raw, token


def resolve_token(session: Session, raw: str) -> ApiToken | None:
    token = session.scalars(
        select(ApiToken)
        .where(ApiToken.token_hash == token_digest(raw))
        .options(joinedload(ApiToken.user))
    ).one_or_none()
    now = utcnow()
    if (
        token is None
        or token.revoked_at is not None
        or token.expires_at <= now
        or not token.user.is_active
    ):
        return None
    if token.last_used_at is None or now - token.last_used_at >= _TOUCH_INTERVAL:
        token.last_used_at = now
    return token


def revoke_token(session: Session, token: ApiToken, actor: User, ip: str | None = None) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            session,
            "api_token.revoke",
            actor=actor,
            entity_type="api_token",
            entity_id=token.id,
            ip=ip,
        )
        session.flush()
