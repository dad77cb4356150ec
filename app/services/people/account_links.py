"""Single-use emailed links to choose a password: invitations and password resets.

A link carries a random token; only its SHA-256 is stored, bound to one account and one
purpose. An invitation lasts ``LIVRET_INVITATION_DAYS`` (7), a reset
``LIVRET_PASSWORD_RESET_MINUTES`` (30). Issuing a link expires the account's earlier unused
links of the same purpose, so only the newest works. Links are kept 30 days after they expire,
so a page can say whether a link was used or expired (and offer a new one) rather than
"unknown". Opening a link only reads it; using it is a conditional update, so of two
simultaneous uses exactly one wins.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import N_
from app.models import AccountLink, AccountLinkPurpose, User
from app.models.base import utcnow
from app.services.errors import DomainError
from app.services.people import rules as people_rules
from app.services.people.auth import token_digest
from app.services.people.passwords import hash_password

PATHS = {
    AccountLinkPurpose.INVITATION: "/invitation/",
    AccountLinkPurpose.RESET: "/password/reset/",
}
TOKEN_MAX = 100  # what a path may carry; tokens are 43 characters
_KEEP_AFTER_EXPIRY = timedelta(days=30)


class LinkState(enum.Enum):
    USABLE = "usable"
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN = "unknown"


class LinkUnusable(DomainError):
    """The link cannot be used any more; ``state`` says why (the page offers a new one)."""

    status_code = 400
    title = "Link not usable"

    def __init__(self, state: LinkState) -> None:
        super().__init__(N_("This link cannot be used any more."))
        self.state = state


@dataclass(frozen=True)
class Lookup:
    state: LinkState
    link: AccountLink | None = None
    user: User | None = None


def lifetime(settings: Settings, purpose: AccountLinkPurpose) -> timedelta:
    if purpose is AccountLinkPurpose.INVITATION:
        return timedelta(days=settings.invitation_days)
    return timedelta(minutes=settings.password_reset_minutes)


def issue(
    session: Session,
    settings: Settings,
    user: User,
    purpose: AccountLinkPurpose,
    *,
    ip: str | None,
    actor: User | None = None,
) -> str:
    """Store a new link for ``user`` and return its path (with the raw token) for the mail."""
    now = utcnow()
    session.execute(delete(AccountLink).where(AccountLink.expires_at < now - _KEEP_AFTER_EXPIRY))
    session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        AccountLink(
            token_hash=token_digest(token),
            user_id=user.id,
            purpose=purpose,
            created_at=now,
            expires_at=now + lifetime(settings, purpose),
            ip=ip,
            created_by_id=actor.id if actor is not None else None,
        )
    )
    session.flush()
    return PATHS[purpose] + token


def lookup(session: Session, token: str, purpose: AccountLinkPurpose) -> Lookup:
    """What a link is now, without using it. A deactivated account's links are unknown."""
    row = session.execute(
        select(AccountLink, User)
        .join(User, User.id == AccountLink.user_id)
        .where(AccountLink.token_hash == token_digest(token), AccountLink.purpose == purpose)
    ).one_or_none()
    if row is None or not row[1].is_active:
        return Lookup(LinkState.UNKNOWN)
    link, user = row
    if link.used_at is not None:
        return Lookup(LinkState.USED, link, user)
    if link.expires_at <= utcnow():
        return Lookup(LinkState.EXPIRED, link, user)
    return Lookup(LinkState.USABLE, link, user)


def require_usable(session: Session, token: str, purpose: AccountLinkPurpose) -> Lookup:
    found = lookup(session, token, purpose)
    if found.state is not LinkState.USABLE:
        raise LinkUnusable(found.state)
    return found


def consume(session: Session, token: str, purpose: AccountLinkPurpose) -> User:
    """Use a link once and return its account; :class:`LinkUnusable` otherwise."""
    found = require_usable(session, token, purpose)
    assert found.link is not None and found.user is not None
    result: CursorResult[tuple[()]] = session.execute(  # type: ignore[assignment]
        update(AccountLink)
        .where(AccountLink.id == found.link.id, AccountLink.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise LinkUnusable(LinkState.USED)
    return found.user


def set_password_with(
    session: Session, token: str, purpose: AccountLinkPurpose, password: str, confirm: str
) -> User:
    """Use a link to choose a password: the link must be usable, the password follow the rules
    (typed twice alike), then the link is used once and the password set."""
    found = require_usable(session, token, purpose)
    assert found.user is not None
    people_rules.check_new_password(
        password, confirm, personal=(found.user.email, found.user.full_name)
    )
    user = consume(session, token, purpose)
    user.password_hash = hash_password(password)
    return user
