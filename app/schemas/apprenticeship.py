"""Apprenticeship schemas."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from app.schemas.common import BodyId, ReadModel, WriteModel
from app.services.school import rules


class PersonRead(ReadModel):
    id: int
    full_name: str
    email: str


class OrganisationRead(ReadModel):
    id: int
    name: str


class CohortRead(ReadModel):
    id: int
    name: str
    intake_year: int
    rncp_code: str


class ApprenticeshipRead(ReadModel):
    id: int
    apprentice: PersonRead
    tutor: PersonRead
    supervisor: PersonRead
    company: OrganisationRead
    cohort: CohortRead
    starts_on: date
    ends_on: date
    semester_count: int
    roles: list[str] = []


class ApprenticeshipCreate(WriteModel):
    apprentice_id: BodyId
    tutor_id: BodyId
    supervisor_id: BodyId
    company_id: BodyId
    cohort_id: BodyId
    starts_on: date
    ends_on: date
    # The rules (school.rules) check the dates and the count; the bounds document them here.
    semester_count: int = Field(
        default=rules.DEFAULT_SEMESTERS, ge=rules.SEMESTERS_MIN, le=rules.SEMESTERS_MAX
    )
