"""Plain factory functions: each builds a row (or a few), flushes, and returns it."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Apprenticeship,
    Attachment,
    Certification,
    Cohort,
    Competency,
    EnglishResult,
    MobilityPeriod,
    Organisation,
    OrganisationKind,
    SituationStatus,
    User,
    WorkSituation,
)
from app.models.base import utcnow
from app.services.people.passwords import hash_password
from app.services.school.apprenticeships import create_semester_reviews
from tests.helpers import png_bytes

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


def competency(session: Session, code: str = "RNCP39303BC01-C01") -> Competency:
    return session.scalars(select(Competency).where(Competency.code == code)).one()


def make_work_situation(
    session: Session,
    apprenticeship: Apprenticeship,
    *,
    title: str = "Analyse vibratoire",
    status: SituationStatus = SituationStatus.DRAFT,
    competency_code: str = "RNCP39303BC01-C01",
) -> WorkSituation:
    situation = WorkSituation(
        apprenticeship_id=apprenticeship.id,
        title=title,
        starts_on=date(2025, 10, 1),
        ends_on=date(2025, 10, 3),
        status=status,
        submitted_at=utcnow() if status is not SituationStatus.DRAFT else None,
        competencies=[competency(session, competency_code)],
    )
    session.add(situation)
    session.flush()
    return situation


def make_english_result(session: Session, apprenticeship: Apprenticeship) -> EnglishResult:
    result = EnglishResult(
        apprenticeship_id=apprenticeship.id,
        test_name="TOEIC",
        score="890",
        cefr_level="B2",
        taken_on=date(2025, 12, 1),
    )
    session.add(result)
    session.flush()
    return result


def make_attachment(
    session: Session,
    uploaded_by: User,
    *,
    work_situation: WorkSituation | None = None,
    english_result: EnglishResult | None = None,
    directory: Path | None = None,
) -> Attachment:
    """An attachment of a 1×1 PNG; its file is written in ``directory`` when one is given
    (the caller removes it), else only the row exists."""
    stored_name = secrets.token_hex(16)
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / stored_name).write_bytes(png_bytes())
    attachment = Attachment(
        work_situation_id=work_situation.id if work_situation else None,
        english_result_id=english_result.id if english_result else None,
        filename="plan.png",
        stored_name=stored_name,
        content_type="image/png",
        size_bytes=len(png_bytes()),
        sha256=hashlib.sha256(png_bytes()).hexdigest(),
        uploaded_by_id=uploaded_by.id,
        uploaded_at=utcnow(),
    )
    session.add(attachment)
    session.flush()
    return attachment
