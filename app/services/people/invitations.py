"""Invitations: an emailed single-use link (7 days) for a new person to choose a password.

An administrator invites one person (the account form, the users page's "resend", the API) or
everyone a CSV import created, in one action. Only an active account without a password may be
invited: someone who has one resets it instead (:mod:`app.services.people.password_reset`).
The mail goes in the person's language. Whoever holds an expired invitation may ask for a new
one (sent to the same address, throttled like password resets); a used one points to the
sign-in page. Accepting sets the password and opens a session; a person allowed sign-in links
(see :func:`app.services.people.signin_links.is_eligible`, e.g. a company tutor) may instead
just sign in with the invitation and keep asking for emailed links.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import N_
from app.models import AccountLinkPurpose, User
from app.models.base import utcnow
from app.services import audit
from app.services.access import require_admin
from app.services.errors import Conflict, NotFound, TooManyRequests
from app.services.notifications import outbox as mail
from app.services.people import account_links, password_reset, signin_links
from app.services.people import rules as people_rules
from app.services.people.account_links import LinkState

INVITATION = AccountLinkPurpose.INVITATION


def _send(
    session: Session, settings: Settings, user: User, *, actor: User | None, ip: str | None
) -> None:
    path = account_links.issue(session, settings, user, INVITATION, ip=ip, actor=actor)
    user.invited_at = utcnow()
    mail.enqueue(
        session,
        user,
        "invitation",
        {
            "path": path,
            "days": settings.invitation_days,
            "inviter": actor.full_name if actor is not None else "",
            "links_allowed": signin_links.is_eligible(session, settings, user),
        },
        settings=settings,
    )
    audit.record(
        session,
        "user.invite",
        actor=actor,
        entity_type="user",
        entity_id=user.id,
        ip=ip,
        details={"locale": user.locale, "days": settings.invitation_days},
    )


def invite(
    session: Session, settings: Settings, actor: User, user_id: int, *, ip: str | None = None
) -> User:
    """Send (or send again) an invitation; the previous one stops working."""
    require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    blocker = people_rules.invitation_blocker(user)
    if blocker is not None:
        raise Conflict(blocker)
    _send(session, settings, user, actor=actor, ip=ip)
    return user


@dataclass(frozen=True)
class InvitationReport:
    sent: list[User] = field(default_factory=list)
    skipped: list[tuple[User, str]] = field(default_factory=list)  # (person, reason msgid)


def invite_many(
    session: Session,
    settings: Settings,
    actor: User,
    user_ids: Iterable[int],
    *,
    ip: str | None = None,
) -> InvitationReport:
    """Invite each of ``user_ids`` who may be invited (one query to read them all); the others
    are reported with the reason. Unknown ids are ignored."""
    require_admin(actor)
    ids = sorted(set(user_ids))
    users: Sequence[User] = (
        session.scalars(select(User).where(User.id.in_(ids)).order_by(User.full_name)).all()
        if ids
        else ()
    )
    report = InvitationReport()
    for user in users:
        blocker = people_rules.invitation_blocker(user)
        if blocker is None:
            _send(session, settings, user, actor=actor, ip=ip)
            report.sent.append(user)
        else:
            report.skipped.append((user, blocker))
    return report


def _not_invited() -> tuple[ColumnElement[bool], ...]:
    """Active accounts with no password that were never invited nor signed in."""
    return (
        User.is_active.is_(True),
        User.password_hash.is_(None),
        User.invited_at.is_(None),
        User.last_login_at.is_(None),
    )


def count_not_invited(session: Session, actor: User) -> int:
    require_admin(actor)
    return int(session.scalar(select(func.count(User.id)).where(*_not_invited())) or 0)


def invite_not_invited(
    session: Session, settings: Settings, actor: User, *, ip: str | None = None
) -> InvitationReport:
    """Invite everyone who was never invited (after a CSV import, say), in one action."""
    require_admin(actor)
    ids = session.scalars(select(User.id).where(*_not_invited())).all()
    return invite_many(session, settings, actor, ids, ip=ip)


def _accepted(session: Session, user: User, method: str, ip: str | None) -> User:
    audit.record(
        session,
        "user.invitation_accepted",
        actor=user,
        entity_type="user",
        entity_id=user.id,
        ip=ip,
        details={"method": method},
    )
    return user


def accept(
    session: Session, settings: Settings, token: str, password: str, confirm: str, *, ip: str | None
) -> User:
    """Choose a first password with an invitation; the caller then opens a session."""
    user = account_links.set_password_with(session, token, INVITATION, password, confirm)
    return _accepted(session, user, "password", ip)


def accept_by_link(session: Session, settings: Settings, token: str, *, ip: str | None) -> User:
    """Sign in with the invitation, without a password, for someone allowed sign-in links."""
    found = account_links.require_usable(session, token, INVITATION)
    assert found.user is not None
    if not signin_links.is_eligible(session, settings, found.user):
        raise Conflict(N_("Choose a password to sign in."))
    return _accepted(session, account_links.consume(session, token, INVITATION), "link", ip)


def renew(session: Session, settings: Settings, token: str, *, ip: str | None) -> LinkState:
    """Send a new invitation to the holder of an expired one (throttled like password resets).
    Returns the old link's state; only an expired invitation of an account that may still be
    invited gets a new one."""
    found = account_links.lookup(session, token, INVITATION)
    if found.state is not LinkState.EXPIRED or found.user is None:
        return found.state
    if not password_reset.allow_request(session, settings, found.user.email, ip=ip):
        raise TooManyRequests(
            password_reset.THROTTLED, minutes=settings.password_reset_window_minutes
        )
    if people_rules.invitation_blocker(found.user) is None:
        _send(session, settings, found.user, actor=None, ip=ip)
    return found.state
