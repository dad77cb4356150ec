"""The administration area: cohorts, accounts and apprenticeships (parties, semester dates).

Every function takes the session and the acting user, checks :func:`require_admin`, flushes but
never commits, and records each write in the audit log (before/after summary, client IP).
Validation collects every problem of a form at once and raises :class:`FormInvalid`, whose
``messages`` map each field to an English msgid and its ``{placeholders}``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from app.i18n import N_
from app.models import (
    ApiToken,
    Apprenticeship,
    AuthSession,
    Certification,
    Cohort,
    Organisation,
    OrganisationKind,
    SemesterReview,
    User,
)
from app.services import audit, validation
from app.services.access import get_visible_apprenticeship, require_admin
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.people import users as users_service
from app.services.people.passwords import MIN_PASSWORD_LENGTH
from app.services.reviews import workflow as review_service
from app.services.school import apprenticeships as apprenticeship_service

USERS_PER_PAGE = 25
APPRENTICESHIPS_PER_PAGE = 50
MIN_INTAKE_YEAR, MAX_INTAKE_YEAR = 2000, 2100
MAX_NAME = 200


# --- Form errors ------------------------------------------------------------------------------


class FormInvalid(InvalidInput):
    """Several field errors at once: ``messages`` maps a field to ``(msgid, params)``."""

    def __init__(self, messages: dict[str, tuple[str, dict[str, Any]]]) -> None:
        super().__init__(
            "Some fields are missing or invalid.",
            field_errors=dict.fromkeys(messages, "invalid"),
        )
        self.messages = messages


class _Errors:
    def __init__(self) -> None:
        self.messages: dict[str, tuple[str, dict[str, Any]]] = {}

    def add(self, field: str, message: str, **params: Any) -> None:
        self.messages.setdefault(field, (message, params))

    def __contains__(self, field: str) -> bool:
        return field in self.messages

    def raise_if_any(self) -> None:
        if self.messages:
            raise FormInvalid(self.messages)


def _clean_text(value: str) -> str:
    return " ".join(value.split())


def _required_name(errors: _Errors, field: str, value: str) -> str:
    value = _clean_text(value)
    if not value:
        errors.add(field, N_("This field is required."))
    elif len(value) > MAX_NAME:
        errors.add(field, N_("At most {n} characters."), n=MAX_NAME)
    return value


def _page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


# --- Overview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    cohorts: int
    users: int
    active_users: int
    apprenticeships: int
    companies: int


def overview(session: Session, actor: User) -> Overview:
    require_admin(actor)

    def count(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    return Overview(
        cohorts=count(select(func.count(Cohort.id))),
        users=count(select(func.count(User.id))),
        active_users=count(select(func.count(User.id)).where(User.is_active.is_(True))),
        apprenticeships=count(select(func.count(Apprenticeship.id))),
        companies=count(
            select(func.count(Organisation.id)).where(Organisation.kind == OrganisationKind.COMPANY)
        ),
    )


# --- Cohorts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortRow:
    cohort: Cohort
    apprenticeships: int


@dataclass(frozen=True)
class CohortOptions:
    certifications: Sequence[Certification]
    schools: Sequence[Organisation]


@dataclass(frozen=True)
class CohortInput:
    certification_id: int | None
    school_id: int | None
    new_school_name: str
    intake_year: int | None
    name: str


def list_cohorts(session: Session, actor: User) -> list[CohortRow]:
    require_admin(actor)
    counts = (
        select(Apprenticeship.cohort_id, func.count(Apprenticeship.id).label("n"))
        .group_by(Apprenticeship.cohort_id)
        .subquery()
    )
    rows = session.execute(
        select(Cohort, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.cohort_id == Cohort.id)
        .options(joinedload(Cohort.certification), joinedload(Cohort.school))
        .order_by(Cohort.intake_year.desc(), Cohort.name, Cohort.id)
    ).all()
    return [CohortRow(cohort, int(n)) for cohort, n in rows]


def cohort_options(session: Session, actor: User) -> CohortOptions:
    require_admin(actor)
    return CohortOptions(
        certifications=session.scalars(
            select(Certification).order_by(Certification.rncp_code)
        ).all(),
        schools=session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrganisationKind.SCHOOL)
            .order_by(Organisation.name)
        ).all(),
    )


def _organisation_by_name(session: Session, name: str) -> Organisation | None:
    """Organisation names are unique; match them ignoring case and repeated spaces."""
    wanted = _clean_text(name).casefold()
    for org in session.scalars(select(Organisation)):
        if _clean_text(org.name).casefold() == wanted:
            return org
    return None


def create_organisation(
    session: Session,
    actor: User,
    *,
    name: str,
    kind: OrganisationKind,
    siret: str | None = None,
    ip: str | None = None,
) -> Organisation:
    """Add a school or a company (callers have checked the name is free)."""
    require_admin(actor)
    org = Organisation(name=_clean_text(name), kind=kind, siret=siret or None)
    session.add(org)
    session.flush()
    audit.record(
        session,
        "organisation.create",
        actor=actor,
        entity_type="organisation",
        entity_id=org.id,
        ip=ip,
        details={"after": {"name": org.name, "kind": kind.value, "siret": org.siret}},
    )
    return org


def create_cohort(
    session: Session, actor: User, data: CohortInput, *, ip: str | None = None
) -> Cohort:
    require_admin(actor)
    errors = _Errors()
    name = _required_name(errors, "name", data.name)
    certification = (
        session.get(Certification, data.certification_id) if data.certification_id else None
    )
    if certification is None:
        errors.add("certification_id", N_("Choose a certification."))
    if data.intake_year is None or not MIN_INTAKE_YEAR <= data.intake_year <= MAX_INTAKE_YEAR:
        errors.add(
            "intake_year",
            N_("The intake year must be between {min} and {max}."),
            min=MIN_INTAKE_YEAR,
            max=MAX_INTAKE_YEAR,
        )
    school: Organisation | None = None
    new_school_name = _clean_text(data.new_school_name)
    if new_school_name:
        if len(new_school_name) > MAX_NAME:
            errors.add("new_school_name", N_("At most {n} characters."), n=MAX_NAME)
        else:
            school = _organisation_by_name(session, new_school_name)
            if school is not None and school.kind is not OrganisationKind.SCHOOL:
                errors.add("new_school_name", N_("This name belongs to a company, not a school."))
    elif data.school_id:
        school = session.get(Organisation, data.school_id)
        if school is None or school.kind is not OrganisationKind.SCHOOL:
            errors.add("school_id", N_("Choose a school."))
    else:
        errors.add("school_id", N_("Choose a school, or type the name of a new one."))
    if school is not None and name and "name" not in errors:
        taken = session.scalar(
            select(Cohort.id).where(Cohort.school_id == school.id, Cohort.name == name)
        )
        if taken is not None:
            errors.add("name", N_("This school already has a cohort with this name."))
    errors.raise_if_any()
    assert certification is not None and data.intake_year is not None
    if school is None:
        school = create_organisation(
            session, actor, name=new_school_name, kind=OrganisationKind.SCHOOL, ip=ip
        )
    cohort = Cohort(
        certification_id=certification.id,
        school_id=school.id,
        intake_year=data.intake_year,
        name=name,
    )
    session.add(cohort)
    session.flush()
    audit.record(
        session,
        "cohort.create",
        actor=actor,
        entity_type="cohort",
        entity_id=cohort.id,
        ip=ip,
        details={
            "after": {
                "name": name,
                "intake_year": data.intake_year,
                "certification": certification.rncp_code,
                "school": school.name,
            }
        },
    )
    return cohort


# --- Users ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserPage:
    rows: Sequence[User]
    total: int
    page: int
    pages: int
    q: str

    def query_string(self, page: int | None = None) -> str:
        params: dict[str, Any] = {}
        if self.q:
            params["q"] = self.q
        target = self.page if page is None else page
        if target > 1:
            params["page"] = target
        return urlencode(params)


@dataclass(frozen=True)
class UserInput:
    email: str
    full_name: str
    locale: str = "fr"
    is_admin: bool = False
    password: str = ""


@dataclass(frozen=True)
class UserDetail:
    user: User
    apprenticeships: Sequence[Apprenticeship]


def list_users(
    session: Session, actor: User, *, q: str = "", page: int = 1, per_page: int = USERS_PER_PAGE
) -> UserPage:
    """One page of accounts, searched by name or email (two queries whatever the page)."""
    require_admin(actor)
    q = _clean_text(q)
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
    pages = _page_count(total, per_page)
    page = min(max(page, 1), pages)
    rows = session.scalars(rows_stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return UserPage(rows, total, page, pages, q)


def get_user(session: Session, actor: User, user_id: int) -> User:
    require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    return user


def user_detail(session: Session, actor: User, user_id: int) -> UserDetail:
    user = get_user(session, actor, user_id)
    apprenticeships = session.scalars(
        select(Apprenticeship)
        .where(
            or_(
                Apprenticeship.apprentice_id == user.id,
                Apprenticeship.tutor_id == user.id,
                Apprenticeship.supervisor_id == user.id,
            )
        )
        .options(*apprenticeship_service.detail_options())
        .order_by(Apprenticeship.starts_on.desc(), Apprenticeship.id)
    ).all()
    return UserDetail(user, apprenticeships)


def create_user(session: Session, actor: User, data: UserInput, *, ip: str | None = None) -> User:
    """Create an account. Without an initial password, the person cannot sign in until an
    administrator sets one."""
    require_admin(actor)
    errors = _Errors()
    email = data.email.strip()
    try:
        users_service.clean_email(email)
    except InvalidInput:
        errors.add("email", N_("This email address is not valid."))
    _required_name(errors, "full_name", data.full_name)
    if data.locale not in users_service.LOCALES:
        errors.add("locale", N_("Unknown language."))
    if data.password and len(data.password) < MIN_PASSWORD_LENGTH:
        errors.add(
            "password", N_("The password must have at least {n} characters."), n=MIN_PASSWORD_LENGTH
        )
    errors.raise_if_any()
    try:
        return users_service.create_user(
            session,
            email=email,
            full_name=_clean_text(data.full_name),
            password=data.password or None,
            is_admin=data.is_admin,
            locale=data.locale,
            actor=actor,
            ip=ip,
        )
    except Conflict as exc:
        raise Conflict(exc.message, field_errors={"email": "taken"}, **exc.params) from exc


def _revoke_credentials(session: Session, user: User) -> tuple[int, int]:
    """Delete the user's browser sessions and API tokens; return how many of each."""
    sessions = session.scalars(select(AuthSession).where(AuthSession.user_id == user.id)).all()
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    for row in (*sessions, *tokens):
        session.delete(row)
    session.flush()
    return len(sessions), len(tokens)


def set_active(
    session: Session, actor: User, user_id: int, active: bool, *, ip: str | None = None
) -> User:
    """Deactivate (which also signs the person out everywhere and deletes their API tokens)
    or reactivate an account."""
    user = get_user(session, actor, user_id)
    if user.id == actor.id and not active:
        raise Conflict("You cannot deactivate your own account.")
    if user.is_active == active:
        return user
    user.is_active = active
    revoked = _revoke_credentials(session, user) if not active else (0, 0)
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
        },
    )
    return user


def reset_password(
    session: Session, actor: User, user_id: int, password: str, *, ip: str | None = None
) -> User:
    """Set a new password chosen by the administrator. The person's open sessions end (unless
    administrators reset their own), so whoever knew the old password is signed out."""
    user = get_user(session, actor, user_id)
    users_service.set_password(session, user.email, password, actor=actor, ip=ip)
    if user.id != actor.id:
        sessions = session.scalars(select(AuthSession).where(AuthSession.user_id == user.id)).all()
        for row in sessions:
            session.delete(row)
        session.flush()
        if sessions:
            audit.record(
                session,
                "user.sessions_revoked",
                actor=actor,
                entity_type="user",
                entity_id=user.id,
                ip=ip,
                details={"reason": "password_reset", "sessions_deleted": len(sessions)},
            )
    return user


# --- Apprenticeships --------------------------------------------------------------------------


@dataclass(frozen=True)
class ApprenticeshipPage:
    rows: Sequence[Apprenticeship]
    total: int
    page: int
    pages: int
    cohort_id: int | None
    cohorts: Sequence[Cohort]

    def query_string(self, page: int | None = None) -> str:
        params: dict[str, Any] = {}
        if self.cohort_id:
            params["cohort"] = self.cohort_id
        target = self.page if page is None else page
        if target > 1:
            params["page"] = target
        return urlencode(params)


@dataclass(frozen=True)
class Person:
    email: str
    full_name: str


@dataclass(frozen=True)
class ApprenticeshipOptions:
    people: Sequence[Person]  # active accounts, for the email fields' suggestions
    companies: Sequence[str]
    cohorts: Sequence[Cohort]


@dataclass(frozen=True)
class ApprenticeshipInput:
    apprentice_email: str
    tutor_email: str
    supervisor_email: str
    company_name: str
    company_siret: str
    cohort_id: int | None
    starts_on: date | None
    ends_on: date | None
    semester_count: int | None


@dataclass(frozen=True)
class ApprenticeshipEdit:
    apprenticeship: Apprenticeship
    reviews: Sequence[SemesterReview]


def _all_cohorts(session: Session) -> Sequence[Cohort]:
    return session.scalars(
        select(Cohort)
        .options(joinedload(Cohort.certification), joinedload(Cohort.school))
        .order_by(Cohort.intake_year.desc(), Cohort.name, Cohort.id)
    ).all()


def list_apprenticeships(
    session: Session,
    actor: User,
    *,
    cohort_id: int | None = None,
    page: int = 1,
    per_page: int = APPRENTICESHIPS_PER_PAGE,
) -> ApprenticeshipPage:
    require_admin(actor)
    count_stmt = select(func.count(Apprenticeship.id))
    rows_stmt = (
        select(Apprenticeship)
        .join(Apprenticeship.apprentice)
        .options(
            contains_eager(Apprenticeship.apprentice),
            joinedload(Apprenticeship.tutor),
            joinedload(Apprenticeship.supervisor),
            joinedload(Apprenticeship.company),
            joinedload(Apprenticeship.cohort),
        )
        .order_by(User.full_name, Apprenticeship.id)
    )
    if cohort_id:
        count_stmt = count_stmt.where(Apprenticeship.cohort_id == cohort_id)
        rows_stmt = rows_stmt.where(Apprenticeship.cohort_id == cohort_id)
    total = int(session.scalar(count_stmt) or 0)
    pages = _page_count(total, per_page)
    page = min(max(page, 1), pages)
    rows = session.scalars(rows_stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return ApprenticeshipPage(rows, total, page, pages, cohort_id, _all_cohorts(session))


def apprenticeship_options(session: Session, actor: User) -> ApprenticeshipOptions:
    require_admin(actor)
    people = [
        Person(email, name)
        for email, name in session.execute(
            select(User.email, User.full_name)
            .where(User.is_active.is_(True))
            .order_by(User.full_name, User.id)
        )
    ]
    companies = session.scalars(
        select(Organisation.name)
        .where(Organisation.kind == OrganisationKind.COMPANY)
        .order_by(Organisation.name)
    ).all()
    return ApprenticeshipOptions(people, companies, _all_cohorts(session))


def _active_user_by_email(session: Session, errors: _Errors, field: str, email: str) -> User | None:
    email = email.strip()
    if not email:
        errors.add(field, N_("This field is required."))
        return None
    try:
        cleaned = users_service.clean_email(email)
    except InvalidInput:
        errors.add(field, N_("This email address is not valid."))
        return None
    user = session.scalars(select(User).where(User.email == cleaned)).one_or_none()
    if user is None:
        errors.add(field, N_("No account with this email: create it first."))
        return None
    if not user.is_active:
        errors.add(field, N_("This account is deactivated."))
        return None
    return user


def clean_siret(value: str) -> str | None:
    """A SIRET is 14 digits; spaces are ignored. Returns None when empty; raises ValueError."""
    digits = "".join(value.split())
    if not digits:
        return None
    if len(digits) != 14 or validation.ascii_int(digits, max_digits=14) is None:
        raise ValueError(digits)
    return digits


def create_apprenticeship(
    session: Session, actor: User, data: ApprenticeshipInput, *, ip: str | None = None
) -> Apprenticeship:
    """Create an apprenticeship between three existing active accounts; the company is matched
    by name, or created."""
    require_admin(actor)
    errors = _Errors()
    people = {
        field: _active_user_by_email(session, errors, field, getattr(data, field))
        for field in ("apprentice_email", "tutor_email", "supervisor_email")
    }
    seen: set[int] = set()
    for field, person in people.items():
        if person is not None:
            if person.id in seen:
                errors.add(
                    field, N_("The apprentice, the tutor and the supervisor must be three people.")
                )
            seen.add(person.id)
    company_name = _required_name(errors, "company_name", data.company_name)
    siret: str | None = None
    try:
        siret = clean_siret(data.company_siret)
    except ValueError:
        errors.add("company_siret", N_("A SIRET has 14 digits."))
    company: Organisation | None = None
    if company_name and "company_name" not in errors:
        company = _organisation_by_name(session, company_name)
        if company is not None and company.kind is not OrganisationKind.COMPANY:
            errors.add("company_name", N_("This name belongs to a school, not a company."))
    cohort = session.get(Cohort, data.cohort_id) if data.cohort_id else None
    if cohort is None:
        errors.add("cohort_id", N_("Choose a cohort."))
    if data.starts_on is None:
        errors.add("starts_on", N_("This field is required."))
    if data.ends_on is None:
        errors.add("ends_on", N_("This field is required."))
    elif data.starts_on is not None and data.ends_on <= data.starts_on:
        errors.add("ends_on", N_("The end date must be after the start date."))
    semester_count = 6 if data.semester_count is None else data.semester_count
    if not 1 <= semester_count <= 12:
        errors.add("semester_count", N_("The number of semesters must be between 1 and 12."))
    apprentice = people["apprentice_email"]
    if apprentice is not None and cohort is not None:
        existing = session.scalar(
            select(Apprenticeship.id).where(
                Apprenticeship.apprentice_id == apprentice.id,
                Apprenticeship.cohort_id == cohort.id,
            )
        )
        if existing is not None:
            errors.add(
                "apprentice_email",
                N_("This apprentice already has an apprenticeship in this cohort."),
            )
    errors.raise_if_any()
    assert cohort is not None and data.starts_on is not None and data.ends_on is not None
    if company is None:
        company = create_organisation(
            session, actor, name=company_name, kind=OrganisationKind.COMPANY, siret=siret, ip=ip
        )
    tutor, supervisor = people["tutor_email"], people["supervisor_email"]
    assert apprentice is not None and tutor is not None and supervisor is not None
    return apprenticeship_service.create(
        session,
        actor,
        apprenticeship_service.ApprenticeshipInput(
            apprentice_id=apprentice.id,
            tutor_id=tutor.id,
            supervisor_id=supervisor.id,
            company_id=company.id,
            cohort_id=cohort.id,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            semester_count=semester_count,
        ),
        ip=ip,
    )


def apprenticeship_edit(
    session: Session, actor: User, apprenticeship_id: int
) -> ApprenticeshipEdit:
    require_admin(actor)
    appr = apprenticeship_service.get(session, actor, apprenticeship_id)
    reviews = session.scalars(
        select(SemesterReview)
        .where(SemesterReview.apprenticeship_id == appr.id)
        .order_by(SemesterReview.semester)
    ).all()
    return ApprenticeshipEdit(appr, reviews)


def change_parties(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    *,
    tutor_email: str,
    supervisor_email: str,
    ip: str | None = None,
) -> Apprenticeship:
    """Reassign the company tutor and the academic supervisor (active accounts only). The
    former ones lose access at once; signatures already given stay valid."""
    require_admin(actor)
    appr = get_visible_apprenticeship(
        session, actor, apprenticeship_id, apprenticeship_service.detail_options()
    )
    errors = _Errors()
    tutor = _active_user_by_email(session, errors, "tutor_email", tutor_email)
    supervisor = _active_user_by_email(session, errors, "supervisor_email", supervisor_email)
    three_people = N_("The apprentice, the tutor and the supervisor must be three people.")
    if tutor is not None and tutor.id == appr.apprentice_id:
        errors.add("tutor_email", three_people)
    if supervisor is not None and supervisor.id in (
        appr.apprentice_id,
        tutor.id if tutor else None,
    ):
        errors.add("supervisor_email", three_people)
    errors.raise_if_any()
    assert tutor is not None and supervisor is not None
    before = {"tutor": appr.tutor.email, "supervisor": appr.supervisor.email}
    after = {"tutor": tutor.email, "supervisor": supervisor.email}
    if before == after:
        return appr
    appr.tutor = tutor
    appr.supervisor = supervisor
    session.flush()
    audit.record(
        session,
        "apprenticeship.parties",
        actor=actor,
        entity_type="apprenticeship",
        entity_id=appr.id,
        ip=ip,
        details={"before": before, "after": after},
    )
    return appr


def adjust_semester_dates(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    semester: int,
    *,
    starts_on: date | None,
    ends_on: date | None,
    ip: str | None = None,
) -> None:
    """Move one semester's dates (refused with 409 once its review is signed and locked)."""
    require_admin(actor)
    errors = _Errors()
    if starts_on is None:
        errors.add("starts_on", N_("This field is required."))
    if ends_on is None:
        errors.add("ends_on", N_("This field is required."))
    errors.raise_if_any()
    assert starts_on is not None and ends_on is not None
    review_service.adjust_dates(
        session, actor, apprenticeship_id, semester, starts_on=starts_on, ends_on=ends_on, ip=ip
    )
