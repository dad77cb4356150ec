"""Account management."""

from __future__ import annotations

from collections.abc import Sequence

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import N_
from app.models import User
from app.services import audit, validation
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.people import rules as people_rules
from app.services.people.auth import normalise_email
from app.services.people.passwords import hash_password

LOCALES = people_rules.LANGUAGES
FULL_NAME = N_("A full name of 1 to 200 characters is required.")


def check_password_strength(password: str, *, personal: Sequence[str] = ()) -> None:
    people_rules.check_password(password, personal=personal)


def clean_email(email: str) -> str:
    try:
        return normalise_email(validate_email(email, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise InvalidInput(
            "This email address is not valid.", field_errors={"email": "invalid"}
        ) from exc


def create_user(
    session: Session,
    *,
    email: str,
    full_name: str,
    password: str | None,
    is_admin: bool = False,
    locale: str = "fr",
    actor: User | None = None,
    ip: str | None = None,
) -> User:
    email = clean_email(email)
    full_name = validation.text(
        "full_name",
        full_name,
        max_length=validation.NAME_MAX,
        required=True,
        single_line=True,
        required_message=FULL_NAME,
        too_long_message=FULL_NAME,
    )
    if locale not in LOCALES:
        raise InvalidInput("Unknown language.")
    if session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict("An account with this email already exists.")
    if password is not None:
        check_password_strength(password, personal=(email, full_name))
    user = User(
        email=email,
        full_name=full_name,
        is_admin=is_admin,
        locale=locale,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        "user.create",
        actor=actor,
        entity_type="user",
        entity_id=user.id,
        details={"email": email, "is_admin": is_admin},
        ip=ip,
    )
    return user


def set_password(
    session: Session,
    email: str,
    password: str,
    actor: User | None = None,
    ip: str | None = None,
) -> User:
    user = session.scalars(select(User).where(User.email == normalise_email(email))).one_or_none()
    if user is None:
        raise NotFound("No account with this email.")
    check_password_strength(password, personal=(user.email, user.full_name))
    user.password_hash = hash_password(password)
    audit.record(
        session, "user.set_password", actor=actor, entity_type="user", entity_id=user.id, ip=ip
    )
    session.flush()
    return user


def set_locale(session: Session, user: User, locale: str) -> None:
    if locale not in LOCALES:
        raise InvalidInput("Unknown language.")
    if user.locale != locale:
        user.locale = locale
        session.flush()
