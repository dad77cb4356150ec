"""Plain factory functions: each builds a row (or a few), flushes, and returns it."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Apprenticeship,
    Certification,
    Cohort,
    MobilityPeriod,
    Organisation,
    OrganisationKind,
    User,
)
from app.services.people.passwords import hash_password
from app.services.school.apprenticeships import create_semester_reviews

PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run
_seq = itertools.count(1)


def make_user(
    session: Session,
    *,
    name: str | None = None,
    email: str | None = None,
    is_admin: bool = False,
    locale: str = "fr",
    is_active: bool = True,
) -> User:
    n = next(_seq)
    user = User(
        email=email or f"user{n}@test.example",
        full_name=name or f"User {n}",
        is_admin=is_admin,
        locale=locale,
        is_active=is_active,
        password_hash=_PASSWORD_HASH,
    )
    session.add(user)
    session.flush()
    return user


def make_organisation(
    session: Session, *, kind: OrganisationKind = OrganisationKind.COMPANY, name: str | None = None
) -> Organisation:
    org = Organisation(name=name or f"{kind.value.title()} {next(_seq)}", kind=kind)
    session.add(org)
    session.flush()
    return org


def certification(session: Session, rncp_code: str = "RNCP39303") -> Certification:
    return session.scalars(select(Certification).where(Certification.rncp_code == rncp_code)).one()


def make_cohort(session: Session, *, rncp_code: str = "RNCP39303") -> Cohort:
    cohort = Cohort(
        certification=certification(session, rncp_code),
        school=make_organisation(session, kind=OrganisationKind.SCHOOL),
        intake_year=2025,
        name=f"Cohort {next(_seq)}",
    )
    session.add(cohort)
    session.flush()
    return cohort


def make_apprenticeship(
    session: Session,
    *,
    apprentice: User | None = None,
    tutor: User | None = None,
    supervisor: User | None = None,
    cohort: Cohort | None = None,
    starts_on: date = date(2025, 9, 1),
    ends_on: date = date(2028, 8, 31),
    semester_count: int = 6,
) -> Apprenticeship:
    appr = Apprenticeship(
        apprentice=apprentice or make_user(session),
        tutor=tutor or make_user(session),
        supervisor=supervisor or make_user(session),
        company=make_organisation(session),
        cohort=cohort or make_cohort(session),
        starts_on=starts_on,
        ends_on=ends_on,
        semester_count=semester_count,
    )
    session.add(appr)
    session.flush()
    create_semester_reviews(session, appr)
    return appr


def make_mobility_period(
    session: Session,
    apprenticeship_id: int,
    starts_on: date = date(2026, 3, 2),
    ends_on: date = date(2026, 5, 24),  # 12 weeks with the default start
) -> MobilityPeriod:
    period = MobilityPeriod(
        apprenticeship_id=apprenticeship_id,
        country="DE",
        host="Airbus Hamburg",
        starts_on=starts_on,
        ends_on=ends_on,
    )
    session.add(period)
    session.flush()
    return period
