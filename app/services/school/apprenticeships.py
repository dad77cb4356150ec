"""Apprenticeships: the scoped listing and detail, creation (by ids from the API, by emails from
the admin form, by line from the CSV import, all checked by :mod:`app.services.school.rules`),
their semesters, and the administrators' changes (parties, semester dates).

Every write checks :func:`require_admin`, flushes but never commits, and is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from app.i18n import N_
from app.models import (
    Apprenticeship,
    Cohort,
    Organisation,
    OrganisationKind,
    Party,
    SemesterReview,
    User,
)
from app.services import audit, paging, validation
from app.services.access import (
    get_visible_apprenticeship,
    require_admin,
    visible_apprenticeships_filter,
)
from app.services.errors import InvalidInput
from app.services.paging import page_count
from app.services.people.users import clean_email
from app.services.school import rules
from app.services.school.calendar import semester_dates
from app.services.school.cohorts import all_cohorts, create_organisation, organisation_by_name
from app.services.validation import Collector

APPRENTICESHIPS_PER_PAGE = 50
UNKNOWN_USER = N_("Unknown or inactive user.")


def detail_options() -> list[Any]:
    return [
        joinedload(Apprenticeship.apprentice),
        joinedload(Apprenticeship.tutor),
        joinedload(Apprenticeship.supervisor),
        joinedload(Apprenticeship.company),
        joinedload(Apprenticeship.cohort).joinedload(Cohort.certification),
    ]


def list_visible(session: Session, actor: User) -> Sequence[Apprenticeship]:
    return session.scalars(
        select(Apprenticeship)
        .where(visible_apprenticeships_filter(actor))
        .options(*detail_options())
        .order_by(Apprenticeship.id)
    ).all()


def taking_part(session: Session, person: User) -> Sequence[Apprenticeship]:
    """The apprenticeships ``person`` is a party to (whoever asks: callers check that)."""
    return session.scalars(
        select(Apprenticeship)
        .where(
            or_(
                Apprenticeship.apprentice_id == person.id,
                Apprenticeship.tutor_id == person.id,
                Apprenticeship.supervisor_id == person.id,
            )
        )
        .options(*detail_options())
        .order_by(Apprenticeship.starts_on.desc(), Apprenticeship.id)
    ).all()


def get(session: Session, actor: User, apprenticeship_id: int) -> Apprenticeship:
    return get_visible_apprenticeship(session, actor, apprenticeship_id, detail_options())


@dataclass(frozen=True)
class ApprenticeshipInput:
    """A new apprenticeship by ids (the API)."""

    apprentice_id: int
    tutor_id: int
    supervisor_id: int
    company_id: int
    cohort_id: int
    starts_on: date
    ends_on: date
    semester_count: int = rules.DEFAULT_SEMESTERS


def _already_in_cohort(session: Session, apprentice: User | None, cohort: Cohort | None) -> bool:
    if apprentice is None or cohort is None:
        return False
    found = session.scalar(
        select(Apprenticeship.id).where(
            Apprenticeship.apprentice_id == apprentice.id, Apprenticeship.cohort_id == cohort.id
        )
    )
    return found is not None


def create(
    session: Session, actor: User, data: ApprenticeshipInput, *, ip: str | None = None
) -> Apprenticeship:
    """Create an apprenticeship and its semester reviews, after :mod:`school.rules` found
    nothing wrong (every problem at once, field by field)."""
    require_admin(actor)
    errors = Collector()
    people: dict[str, User | None] = {}
    for role in rules.ROLES:
        field = f"{role}_id"
        people[role] = session.get(User, getattr(data, field))
        if people[role] is None:
            errors.add(field, UNKNOWN_USER)
    company = session.get(Organisation, data.company_id)
    if company is None:
        errors.add("company_id", N_("Unknown company."))
    cohort = session.get(Cohort, data.cohort_id)
    if cohort is None:
        errors.add("cohort_id", N_("Unknown cohort."))
    draft = rules.ApprenticeshipDraft(
        **{role: rules.PersonRef.of(u) if u else None for role, u in people.items()},
        company_kind=company.kind if company else None,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        semester_count=data.semester_count,
        apprentice_in_cohort=_already_in_cohort(session, people["apprentice"], cohort),
    )
    errors.merge(rules.apprenticeship_problems(draft))
    errors.raise_if_any()
    appr = Apprenticeship(
        apprentice_id=data.apprentice_id,
        tutor_id=data.tutor_id,
        supervisor_id=data.supervisor_id,
        company_id=data.company_id,
        cohort_id=data.cohort_id,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        semester_count=data.semester_count,
    )
    session.add(appr)
    session.flush()
    create_semester_reviews(session, appr)
    audit.record(
        session,
        "apprenticeship.create",
        actor=actor,
        entity_type="apprenticeship",
        entity_id=appr.id,
        details={k: str(v) for k, v in data.__dict__.items()},
        ip=ip,
    )
    return get(session, actor, appr.id)


def create_semester_reviews(session: Session, appr: Apprenticeship) -> list[SemesterReview]:
    """One review per semester, dated in six-month steps from the start."""
    reviews = []
    for semester in range(1, appr.semester_count + 1):
        starts_on, ends_on = semester_dates(appr.starts_on, semester)
        reviews.append(
            SemesterReview(
                apprenticeship_id=appr.id,
                semester=semester,
                starts_on=starts_on,
                ends_on=ends_on,
            )
        )
    session.add_all(reviews)
    session.flush()
    return reviews


# --- The administrators' pages ----------------------------------------------------------------


@dataclass(frozen=True)
class ApprenticeshipPage:
    rows: Sequence[Apprenticeship]
    total: int
    page: int
    pages: int
    cohort_id: int | None
    cohorts: Sequence[Cohort]

    def query_string(self, page: int | None = None) -> str:
        return paging.query_string({"cohort": self.cohort_id}, self.page if page is None else page)


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
class ApprenticeshipByEmail:
    """A new apprenticeship as the admin form sends it: the parties by email, the company by
    name (created when missing), blanks as None."""

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
    pages = page_count(total, per_page)
    page = min(max(page, 1), pages)
    rows = session.scalars(rows_stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return ApprenticeshipPage(rows, total, page, pages, cohort_id, all_cohorts(session))


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
    return ApprenticeshipOptions(people, companies, all_cohorts(session))


def _user_by_email(session: Session, errors: Collector, field: str, email: str) -> User | None:
    """The account with this email (active or not: the rules say what an inactive one may
    not do), or None with the reason recorded under ``field``."""
    email = email.strip()
    if not email:
        errors.add(field, validation.REQUIRED)
        return None
    try:
        cleaned = clean_email(email)
    except InvalidInput:
        errors.add(field, N_("This email address is not valid."))
        return None
    user = session.scalars(select(User).where(User.email == cleaned)).one_or_none()
    if user is None:
        errors.add(field, N_("No account with this email: create it first."))
    return user


def create_from_emails(
    session: Session, actor: User, data: ApprenticeshipByEmail, *, ip: str | None = None
) -> Apprenticeship:
    """Create an apprenticeship between three existing active accounts; the company is matched
    by name, or created."""
    require_admin(actor)
    errors = Collector()
    people = {
        role: _user_by_email(session, errors, f"{role}_email", getattr(data, f"{role}_email"))
        for role in rules.ROLES
    }
    company_name = (
        errors.check("company_name", lambda: validation.name("company_name", data.company_name))
        or ""
    )
    siret: str | None = None
    try:
        siret = rules.clean_siret(data.company_siret)
    except ValueError:
        errors.add("company_siret", N_("A SIRET has 14 digits."))
    company = organisation_by_name(session, company_name) if company_name else None
    cohort = session.get(Cohort, data.cohort_id) if data.cohort_id else None
    if cohort is None:
        errors.add("cohort_id", N_("Choose a cohort."))
    for field in ("starts_on", "ends_on"):
        if getattr(data, field) is None:
            errors.add(field, validation.REQUIRED)
    semester_count = rules.DEFAULT_SEMESTERS if data.semester_count is None else data.semester_count
    draft = rules.ApprenticeshipDraft(
        **{role: rules.PersonRef.of(u) if u else None for role, u in people.items()},
        company_kind=company.kind if company else None,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        semester_count=semester_count,
        apprentice_in_cohort=_already_in_cohort(session, people["apprentice"], cohort),
    )
    errors.merge(rules.apprenticeship_problems(draft, rules.BY_EMAIL_FIELDS))
    errors.raise_if_any()
    assert cohort is not None and data.starts_on is not None and data.ends_on is not None
    if company is None:
        company = create_organisation(
            session, actor, name=company_name, kind=OrganisationKind.COMPANY, siret=siret, ip=ip
        )
    apprentice, tutor, supervisor = (people[role] for role in rules.ROLES)
    assert apprentice is not None and tutor is not None and supervisor is not None
    return create(
        session,
        actor,
        ApprenticeshipInput(
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
    appr = get(session, actor, apprenticeship_id)
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
    appr = get_visible_apprenticeship(session, actor, apprenticeship_id, detail_options())
    errors = Collector()
    tutor = _user_by_email(session, errors, "tutor_email", tutor_email)
    supervisor = _user_by_email(session, errors, "supervisor_email", supervisor_email)
    draft = rules.ApprenticeshipDraft(
        apprentice=rules.PersonRef.of(appr.apprentice),
        tutor=rules.PersonRef.of(tutor) if tutor else None,
        supervisor=rules.PersonRef.of(supervisor) if supervisor else None,
        company_kind=None,
        starts_on=None,
        ends_on=None,
        semester_count=None,
    )
    errors.merge(rules.apprenticeship_problems(draft, rules.BY_EMAIL_FIELDS))
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


# --- A party who leaves -----------------------------------------------------------------------


@dataclass(frozen=True)
class PartyGap:
    """An active apprenticeship that would lose ``role`` if its holder left."""

    apprenticeship: Apprenticeship
    role: Party

    @property
    def replaceable(self) -> bool:
        """A tutor or a supervisor can be replaced; an apprentice cannot."""
        return self.role is not Party.APPRENTICE


def contracts_left_without(session: Session, person: User, today: date) -> list[PartyGap]:
    """The active apprenticeships (:func:`rules.is_active`) that would be left without their
    apprentice, tutor or supervisor if ``person`` could no longer take part (a deactivated
    account), by id. Whoever asks: callers check that."""
    gaps = []
    for appr in sorted(taking_part(session, person), key=lambda a: a.id):
        if not rules.is_active(appr.ends_on, today):
            continue
        for role in Party:
            if getattr(appr, f"{role.value}_id") == person.id:
                gaps.append(PartyGap(appr, role))
                break
    return gaps


def replace_party(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    role: Party,
    email: str,
    *,
    ip: str | None = None,
) -> Apprenticeship:
    """Give the apprenticeship a new tutor or supervisor (the other one stays), through
    :func:`change_parties` and its checks; field errors come back under ``email``."""
    require_admin(actor)
    if role is Party.APPRENTICE:
        raise validation.FieldErrors.single("email", N_("An apprentice cannot be replaced."))
    appr = get_visible_apprenticeship(session, actor, apprenticeship_id, detail_options())
    emails = {"tutor_email": appr.tutor.email, "supervisor_email": appr.supervisor.email}
    field = f"{role.value}_email"
    emails[field] = email
    try:
        return change_parties(session, actor, apprenticeship_id, ip=ip, **emails)
    except InvalidInput as exc:
        messages = validation.field_messages(exc)
        problem = messages.get(field) or next(iter(messages.values()), (exc.message, exc.params))
        raise validation.FieldErrors.single("email", problem[0], **problem[1]) from exc
