"""The school's set-up over the API: cohorts, schools and companies, party reassignment, the
CSV import and a cohort's progress."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from app.models import OrganisationKind
from app.schemas.common import BodyId, ReadModel, SafeStr, WriteModel
from app.services import validation
from app.services.reviews import rules as review_rules
from app.services.school import cohorts as cohort_service
from app.services.school import csv_import

Name = Field(min_length=1, max_length=validation.NAME_MAX)
Email = Field(min_length=1, max_length=254)


class OrganisationDetailRead(ReadModel):
    id: int
    name: str
    kind: OrganisationKind
    siret: str | None


class OrganisationCreate(WriteModel):
    name: SafeStr = Name
    kind: OrganisationKind
    siret: SafeStr = Field(
        default="", max_length=30, description="14 digits (spaces ignored); empty for none."
    )


class CertificationRef(ReadModel):
    id: int
    rncp_code: str


class CohortDetailRead(ReadModel):
    id: int
    name: str
    intake_year: int
    certification: CertificationRef
    school: OrganisationDetailRead
    apprenticeship_count: int


class CohortCreate(WriteModel):
    name: SafeStr = Name
    intake_year: int = Field(ge=cohort_service.MIN_INTAKE_YEAR, le=cohort_service.MAX_INTAKE_YEAR)
    certification_id: BodyId
    school_id: BodyId | None = Field(
        default=None, description="An existing school; or give `new_school_name`."
    )
    new_school_name: SafeStr = Field(
        default="",
        max_length=validation.NAME_MAX,
        description="A school to use or create by name (instead of `school_id`).",
    )


class PartiesUpdate(WriteModel):
    """The apprenticeship's new company tutor and academic supervisor, by email (active
    accounts only; the apprentice cannot be either)."""

    tutor_email: SafeStr = Email
    supervisor_email: SafeStr = Email


class ImportLineError(ReadModel):
    line: int | None = Field(description="The file's line (the header is 1); null for the file.")
    column: str = Field(description="The column at fault, or empty.")
    message: str


class ImportPersonRead(ReadModel):
    email: str
    full_name: str
    locale: str = Field(description="Their language, and their invitation's.")


class ImportCompanyRead(ReadModel):
    name: str
    siret: str | None


class ImportReport(ReadModel):
    """A dry run: what the file would create. Nothing was written."""

    ok: bool = Field(description="True when the file can be imported as it is.")
    rows: int = Field(description="Apprenticeships the file would create.")
    error_count: int
    errors: list[ImportLineError] = Field(
        description=f"The first {csv_import.MAX_REPORTED_ERRORS} problems, line by line "
        "(`error_count` counts them all)."
    )
    new_people: list[ImportPersonRead]
    new_companies: list[ImportCompanyRead]


class ImportResultRead(ReadModel):
    """What the import created."""

    apprenticeships: int
    users: int
    companies: int
    apprenticeship_ids: list[int]
    user_ids: list[int] = Field(description="The accounts created (without a password).")
    company_ids: list[int]
    invited: int = Field(description="Invitations sent to the new people (`invite=true`).")


class CohortProgressBlock(ReadModel):
    code: str
    acquired_count: int
    total: int
    acquired_percent: int
    status: str


class CurrentReviewRead(ReadModel):
    semester: int
    starts_on: date
    ends_on: date
    state: str
    overdue: bool


class CohortProgressRow(ReadModel):
    """One apprentice's row of the cohort dashboard."""

    apprenticeship_id: int
    apprentice_id: int
    apprentice_name: str
    apprentice_email: str
    company_name: str
    blocks: list[CohortProgressBlock]
    current_review: CurrentReviewRead | None
    overdue: bool
    divergences: int = Field(
        description="Competencies where the apprentice's and the tutor's levels differ by "
        f"{review_rules.DIVERGENCE_GAP} or more in the current review."
    )
    pending_semesters: list[int]
    overdue_semesters: list[int]
    ready: bool
    english_best: str | None
    english_ok: bool
    mobility_weeks: int
    mobility_ok: bool
    apprentice_reminded_at: datetime | None
    tutor_reminded_at: datetime | None


class CohortProgressRead(ReadModel):
    cohort_id: int
    cohort_name: str
    rncp_code: str | None
    block_codes: list[str]
    total_in_cohort: int = Field(description="Apprenticeships of the cohort the caller sees.")
    rows: list[CohortProgressRow]
