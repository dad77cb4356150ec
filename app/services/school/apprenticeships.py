"""Apprenticeships: creation (admin), scoped listing, detail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.models import (
    Apprenticeship,
    Cohort,
    Organisation,
    OrganisationKind,
    SemesterReview,
    User,
)
from app.services import audit
from app.services.access import (
    get_visible_apprenticeship,
    require_admin,
    visible_apprenticeships_filter,
)
from app.services.errors import InvalidInput
from app.services.school.calendar import semester_dates


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


def get(session: Session, actor: User, apprenticeship_id: int) -> Apprenticeship:
    return get_visible_apprenticeship(session, actor, apprenticeship_id, detail_options())


@dataclass(frozen=True)
class ApprenticeshipInput:
    apprentice_id: int
    tutor_id: int
    supervisor_id: int
    company_id: int
    cohort_id: int
    starts_on: date
    ends_on: date
    semester_count: int = 6


def _active_user(session: Session, user_id: int, field: str) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise InvalidInput("Unknown or inactive user.", field_errors={field: "unknown"})
    return user


def create(
    session: Session, actor: User, data: ApprenticeshipInput, *, ip: str | None = None
) -> Apprenticeship:
    require_admin(actor)
    if data.ends_on <= data.starts_on:
        raise InvalidInput(
            "The end date must be after the start date.", field_errors={"ends_on": "before_start"}
        )
    if not 1 <= data.semester_count <= 12:
        raise InvalidInput(
            "The number of semesters must be between 1 and 12.",
            field_errors={"semester_count": "range"},
        )
    ids = {data.apprentice_id, data.tutor_id, data.supervisor_id}
    if len(ids) != 3:
        raise InvalidInput("The apprentice, the tutor and the supervisor must be three people.")
    for field in ("apprentice_id", "tutor_id", "supervisor_id"):
        _active_user(session, getattr(data, field), field)
    company = session.get(Organisation, data.company_id)
    if company is None or company.kind is not OrganisationKind.COMPANY:
        raise InvalidInput("Unknown company.", field_errors={"company_id": "unknown"})
    if session.get(Cohort, data.cohort_id) is None:
        raise InvalidInput("Unknown cohort.", field_errors={"cohort_id": "unknown"})
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
