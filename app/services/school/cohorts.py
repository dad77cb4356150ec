"""Cohorts and the organisations they hang from (schools and companies), as administrators
manage them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.i18n import N_
from app.models import (
    Apprenticeship,
    Certification,
    Cohort,
    Organisation,
    OrganisationKind,
    User,
)
from app.services import audit, validation
from app.services.access import require_admin
from app.services.errors import NotFound
from app.services.school import rules
from app.services.validation import Collector

MIN_INTAKE_YEAR, MAX_INTAKE_YEAR = 2000, 2100


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


def get_cohort(session: Session, actor: User, cohort_id: int) -> CohortRow:
    """One cohort, with its certification, its school and how many apprenticeships it has."""
    require_admin(actor)
    cohort = session.scalar(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(joinedload(Cohort.certification), joinedload(Cohort.school))
    )
    if cohort is None:
        raise NotFound("No such cohort.")
    count = session.scalar(
        select(func.count(Apprenticeship.id)).where(Apprenticeship.cohort_id == cohort.id)
    )
    return CohortRow(cohort, int(count or 0))


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


def all_cohorts(session: Session) -> Sequence[Cohort]:
    return session.scalars(
        select(Cohort)
        .options(joinedload(Cohort.certification), joinedload(Cohort.school))
        .order_by(Cohort.intake_year.desc(), Cohort.name, Cohort.id)
    ).all()


def organisation_by_name(session: Session, name: str) -> Organisation | None:
    """Organisation names are unique; match them ignoring case and repeated spaces."""
    wanted = validation.one_line(name).casefold()
    for org in session.scalars(select(Organisation)):
        if validation.one_line(org.name).casefold() == wanted:
            return org
    return None


def list_organisations(
    session: Session, actor: User, *, kind: OrganisationKind | None = None
) -> Sequence[Organisation]:
    """Schools and companies by name, or only one kind."""
    require_admin(actor)
    stmt = select(Organisation).order_by(Organisation.name, Organisation.id)
    if kind is not None:
        stmt = stmt.where(Organisation.kind == kind)
    return session.scalars(stmt).all()


def get_organisation(session: Session, actor: User, organisation_id: int) -> Organisation:
    require_admin(actor)
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("No such school or company.")
    return org


NAME_TAKEN = N_("A school or a company already has this name.")


def add_organisation(
    session: Session,
    actor: User,
    *,
    name: str,
    kind: OrganisationKind,
    siret: str = "",
    ip: str | None = None,
) -> Organisation:
    """Add a school or a company after checking its name (one line, free, ignoring case and
    repeated spaces) and its SIRET (14 digits, spaces ignored, optional)."""
    require_admin(actor)
    errors = Collector()
    clean_name = errors.check("name", lambda: validation.name("name", name)) or ""
    if clean_name and organisation_by_name(session, clean_name) is not None:
        errors.add("name", NAME_TAKEN)
    clean_siret: str | None = None
    try:
        clean_siret = rules.clean_siret(siret)
    except ValueError:
        errors.add("siret", N_("A SIRET has 14 digits."))
    errors.raise_if_any()
    return create_organisation(session, actor, name=clean_name, kind=kind, siret=clean_siret, ip=ip)


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
    org = Organisation(name=validation.one_line(name), kind=kind, siret=siret or None)
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
    errors = Collector()
    name = errors.check("name", lambda: validation.name("name", data.name)) or ""
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
    new_school_name = (
        errors.check(
            "new_school_name",
            lambda: validation.name("new_school_name", data.new_school_name, required=False),
        )
        or ""
    )
    if "new_school_name" in errors:
        pass
    elif new_school_name:
        school = organisation_by_name(session, new_school_name)
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
