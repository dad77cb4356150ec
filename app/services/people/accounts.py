"""Accounts, as administrators manage them: the searchable list, one person's page, creating
an account, changing it, deactivating and reactivating it, resetting its password.

Every function checks :func:`require_admin`, flushes but never commits, and records each write
in the audit log (before/after summary, client IP).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from app.config import Settings
from app.i18n import N_
from app.models import (
    Apprenticeship,
    User,
)
from app.services import audit, paging, validation
from app.services.access import require_admin
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.notifications.outbox import settings_of
from app.services.paging import page_count
from app.services.people import invitations
from app.services.people import rules as people_rules
from app.services.people import users as users_service
from app.services.people.auth import revoke_credentials
from app.services.school import apprenticeships as school_apprenticeships
from app.services.school.apprenticeships import taking_part
from app.services.validation import Collector

USERS_PER_PAGE = 25


@dataclass(frozen=True)
class PersonRoles:
    """What someone is in the school's apprenticeships: apprentice (in how many), tutor and
    supervisor of whom (the apprentices' names)."""

    apprentice: int = 0
    tutor_of: tuple[str, ...] = ()
    supervisor_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserPage:
    rows: Sequence[User]
    total: int
    page: int
    pages: int
    q: str
    roles: Mapping[int, PersonRoles] = field(default_factory=dict)

    def query_string(self, page: int | None = None) -> str:
        return paging.query_string({"q": self.q}, self.page if page is None else page)


@dataclass(frozen=True)
class UserInput:
    email: str
    full_name: str
    locale: str = "fr"
    is_admin: bool = False
    password: str = ""
    invite: bool = False  # email an invitation to choose a password (only without one)


@dataclass(frozen=True)
class UserDetail:
    user: User
    apprenticeships: Sequence[Apprenticeship]
    roles: Mapping[int, PersonRoles] = field(default_factory=dict)


def list_users(
    session: Session, actor: User, *, q: str = "", page: int = 1, per_page: int = USERS_PER_PAGE
) -> UserPage:
    """One page of accounts, searched by name or email (two queries whatever the page)."""
    require_admin(actor)
    q = validation.one_line(q)
    condition = (
        or_(
            User.full_name.icontains(q, autoescape=True),
            User.email.icontains(q, autoescape=True),
        )
        if q
        else None
    )
    count_stmt = select(func.count(User.id))
    rows_stmt = select(User).order_by(User.full_name, User.id)
    if condition is not None:
        count_stmt = count_stmt.where(condition)
        rows_stmt = rows_stmt.where(condition)
    total = int(session.scalar(count_stmt) or 0)
    pages = page_count(total, per_page)
    page = min(max(page, 1), pages)
    rows = session.scalars(rows_stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return UserPage(rows, total, page, pages, q, roles_of_people(session, [u.id for u in rows]))


def roles_of_people(session: Session, user_ids: Collection[int]) -> dict[int, PersonRoles]:
    """Each person's roles in the apprenticeships, for a page of people (one query)."""
    if not user_ids:
        return {}
    apprentice = aliased(User)
    rows = session.execute(
        select(
            Apprenticeship.apprentice_id,
            Apprenticeship.tutor_id,
            Apprenticeship.supervisor_id,
            apprentice.full_name,
        )
        .join(apprentice, apprentice.id == Apprenticeship.apprentice_id)
        .where(
            or_(
                Apprenticeship.apprentice_id.in_(user_ids),
                Apprenticeship.tutor_id.in_(user_ids),
                Apprenticeship.supervisor_id.in_(user_ids),
            )
        )
        .order_by(apprentice.full_name, Apprenticeship.id)
    ).all()
    counts: dict[int, int] = {}
    tutor_of: dict[int, list[str]] = {}
    supervisor_of: dict[int, list[str]] = {}
    for apprentice_id, tutor_id, supervisor_id, name in rows:
        counts[apprentice_id] = counts.get(apprentice_id, 0) + 1
        tutor_of.setdefault(tutor_id, []).append(name)
        supervisor_of.setdefault(supervisor_id, []).append(name)
    return {
        uid: PersonRoles(
            counts.get(uid, 0), tuple(tutor_of.get(uid, ())), tuple(supervisor_of.get(uid, ()))
        )
        for uid in user_ids
        if uid in counts or uid in tutor_of or uid in supervisor_of
    }


def get_user(session: Session, actor: User, user_id: int) -> User:
    require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    return user


def user_detail(session: Session, actor: User, user_id: int) -> UserDetail:
    user = get_user(session, actor, user_id)
    return UserDetail(user, taking_part(session, user), roles_of_people(session, [user.id]))


def _check_account_fields(
    errors: Collector, *, email: str | None, full_name: str | None, locale: str | None
) -> None:
    """The checks an account's fields go through, on creation and on every change (a field
    given as None is not being set)."""
    if email is not None:
        try:
            users_service.clean_email(email)
        except InvalidInput:
            errors.add("email", N_("This email address is not valid."))
    if full_name is not None:
        errors.check("full_name", lambda: validation.name("full_name", full_name))
    if locale is not None and locale not in users_service.LOCALES:
        errors.add("locale", N_("Unknown language."))


def create_user(
    session: Session,
    actor: User,
    data: UserInput,
    *,
    ip: str | None = None,
    settings: Settings | None = None,
) -> User:
    """Create an account, and invite the person when ``data.invite`` (in the same
    transaction). Without a password or an invitation, the person cannot sign in until an
    administrator sets one or invites them."""
    require_admin(actor)
    errors = Collector()
    email = data.email.strip()
    _check_account_fields(errors, email=email, full_name=data.full_name, locale=data.locale)
    if data.password:
        errors.check(
            "password",
            lambda: people_rules.check_password(data.password, personal=(email, data.full_name)),
        )
        if data.invite:
            errors.add("invite", N_("An invitation is for choosing a password: leave it empty."))
    errors.raise_if_any()
    try:
        user = users_service.create_user(
            session,
            email=email,
            full_name=validation.one_line(data.full_name),
            password=data.password or None,
            is_admin=data.is_admin,
            locale=data.locale,
            actor=actor,
            ip=ip,
        )
    except Conflict as exc:
        raise Conflict(exc.message, field_errors={"email": "taken"}, **exc.params) from exc
    if data.invite:
        invitations.invite(session, settings or settings_of(session), actor, user.id, ip=ip)
    return user


@dataclass(frozen=True)
class UserUpdate:
    """The fields an administrator changes on an account; None leaves a field as it is."""

    email: str | None = None
    full_name: str | None = None
    locale: str | None = None
    is_admin: bool | None = None


OWN_ADMIN_FLAG = N_("You cannot remove your own administrator rights.")
EMAIL_TAKEN = N_("An account with this email already exists.")


def update_user(
    session: Session, actor: User, user_id: int, data: UserUpdate, *, ip: str | None = None
) -> User:
    """Change an account's name, email, language or administrator flag, with the checks of
    :func:`create_user`. Administrators cannot remove their own flag (the school would lose
    its last administrator by mistake). Audited with the fields before and after."""
    user = get_user(session, actor, user_id)
    errors = Collector()
    email = data.email.strip() if data.email is not None else None
    _check_account_fields(errors, email=email, full_name=data.full_name, locale=data.locale)
    if user.id == actor.id and data.is_admin is False and user.is_admin:
        errors.add("is_admin", OWN_ADMIN_FLAG)
    errors.raise_if_any()
    wanted: dict[str, object] = {}
    if email is not None:
        wanted["email"] = users_service.clean_email(email)
    if data.full_name is not None:
        wanted["full_name"] = validation.one_line(data.full_name)
    if data.locale is not None:
        wanted["locale"] = data.locale
    if data.is_admin is not None:
        wanted["is_admin"] = data.is_admin
    changed = {k: v for k, v in wanted.items() if getattr(user, k) != v}
    if not changed:
        return user
    if "email" in changed:
        taken = session.scalar(
            select(User.id).where(User.email == changed["email"], User.id != user.id)
        )
        if taken is not None:
            raise Conflict(EMAIL_TAKEN, field_errors={"email": "taken"})
    before = {k: getattr(user, k) for k in changed}
    for key, value in changed.items():
        setattr(user, key, value)
    session.flush()
    audit.record(
        session,
        "user.update",
        actor=actor,
        entity_type="user",
        entity_id=user.id,
        ip=ip,
        details={"before": before, "after": changed},
    )
    return user


UNSETTLED = N_(
    "Deactivating {name} would leave these active apprenticeships without them: {contracts}. "
    "Choose a replacement for each, or confirm exactly these apprenticeships."
)
NOT_THE_SAME_PERSON = N_("Choose someone other than the person being deactivated.")


def unsettled(user: User, gaps: Sequence[school_apprenticeships.PartyGap]) -> Conflict:
    """The 409 of a deactivation that would leave active apprenticeships without ``user``,
    neither replaced nor confirmed as they are now: it names them."""
    return Conflict(
        UNSETTLED,
        field_errors={"confirm_apprenticeships": "unconfirmed"},
        name=user.full_name,
        contracts=", ".join(_contract_name(gap) for gap in gaps),
    )


def _contract_name(gap: school_apprenticeships.PartyGap) -> str:
    appr = gap.apprenticeship
    return f"#{appr.id} {appr.apprentice.full_name}"


def _settle_contracts(
    session: Session,
    actor: User,
    user: User,
    *,
    replacements: Mapping[int, str],
    confirmed: Collection[int],
    today: date,
    ip: str | None,
) -> dict[str, Any]:
    """Before ``user`` is deactivated: replace them as tutor or supervisor where asked, and
    check that the apprenticeships left without them are exactly the ``confirmed`` ones.
    Writes nothing unless everything holds; answers what to put in the audit details."""
    gaps = school_apprenticeships.contracts_left_without(session, user, today)
    by_id = {gap.apprenticeship.id: gap for gap in gaps}
    left = set(by_id) - set(replacements)
    if not set(replacements) <= set(by_id) or left != set(confirmed):
        raise unsettled(user, gaps)  # a stale or incomplete request
    errors = Collector()
    for appr_id, email in replacements.items():
        field = f"replacements.{appr_id}"
        if email.strip().casefold() == user.email.casefold():
            errors.add(field, NOT_THE_SAME_PERSON)
    errors.raise_if_any()
    replaced = []
    with session.begin_nested():  # all the replacements, or none
        for appr_id, email in sorted(replacements.items()):
            role = by_id[appr_id].role
            try:
                appr = school_apprenticeships.replace_party(
                    session, actor, appr_id, role, email, ip=ip
                )
            except InvalidInput as exc:
                found = validation.field_messages(exc) or {"": (exc.message, exc.params)}
                for message, params in found.values():
                    errors.add(f"replacements.{appr_id}", message, **params)
                continue
            replaced.append(
                {
                    "apprenticeship_id": appr_id,
                    "role": role.value,
                    "replacement": getattr(appr, role.value).email,
                }
            )
        errors.raise_if_any()
    return {"apprenticeships_replaced": replaced, "apprenticeships_confirmed": sorted(left)}


def deactivation_gaps(
    session: Session, actor: User, user_id: int, *, today: date | None = None
) -> list[school_apprenticeships.PartyGap]:
    """What the deactivation step shows: the active apprenticeships the account takes part in
    (see :func:`app.services.school.apprenticeships.contracts_left_without`)."""
    user = get_user(session, actor, user_id)
    return school_apprenticeships.contracts_left_without(session, user, today or date.today())


def set_active(
    session: Session,
    actor: User,
    user_id: int,
    active: bool,
    *,
    confirm_apprenticeships: Collection[int] = (),
    replacements: Mapping[int, str] | None = None,
    today: date | None = None,
    ip: str | None = None,
) -> User:
    """Deactivate (which also signs the person out everywhere and deletes their API tokens)
    or reactivate an account.

    An account that is the apprentice, tutor or supervisor of an active apprenticeship is
    deactivated only once each of those apprenticeships is settled: the tutor or supervisor
    replaced (``replacements``: apprenticeship id → the new one's email, through
    :func:`~app.services.school.apprenticeships.change_parties`), or the apprenticeship named in
    ``confirm_apprenticeships``, which must be exactly the ones left without them; otherwise
    :func:`unsettled` (409) names them."""
    user = get_user(session, actor, user_id)
    if user.id == actor.id and not active:
        raise Conflict("You cannot deactivate your own account.")
    if user.is_active == active:
        return user
    settled: dict[str, Any] = {}
    if not active:
        settled = _settle_contracts(
            session,
            actor,
            user,
            replacements=replacements or {},
            confirmed=set(confirm_apprenticeships),
            today=today or date.today(),
            ip=ip,
        )
    user.is_active = active
    revoked = revoke_credentials(session, user) if not active else (0, 0)
    session.flush()
    audit.record(
        session,
        "user.reactivate" if active else "user.deactivate",
        actor=actor,
        entity_type="user",
        entity_id=user.id,
        ip=ip,
        details={
            "before": {"is_active": not active},
            "after": {"is_active": active},
            "sessions_deleted": revoked[0],
            "tokens_deleted": revoked[1],
            **settled,
        },
    )
    return user


def reset_password(
    session: Session, actor: User, user_id: int, password: str, *, ip: str | None = None
) -> User:
    """Set a new password chosen by the administrator. The person's open sessions end and
    their API tokens are revoked (unless administrators reset their own), so whoever knew the
    old password is signed out everywhere."""
    user = get_user(session, actor, user_id)
    users_service.set_password(session, user.email, password, actor=actor, ip=ip)
    if user.id != actor.id:
        sessions, tokens = revoke_credentials(session, user)
        if sessions or tokens:
            audit.record(
                session,
                "user.sessions_revoked",
                actor=actor,
                entity_type="user",
                entity_id=user.id,
                ip=ip,
                details={
                    "reason": "password_reset",
                    "sessions_deleted": sessions,
                    "tokens_deleted": tokens,
                },
            )
    return user
