"""Semester review schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from app.models import Party
from app.schemas.common import BodyId, ReadModel, Version, WriteModel
from app.services.reviews import rules


class RatingIn(WriteModel):
    competency_id: BodyId
    level: int | None = Field(default=None, ge=0, le=100)
    not_observed: bool = False
    comment: str = Field(default="", max_length=rules.COMMENT_MAX)


class AssessmentPut(WriteModel):
    """Upserts the listed ratings of one party; others are left as they are."""

    version: Version = Field(description="The assessment version you last read (0 if none).")
    general_comment: str | None = Field(default=None, max_length=rules.SUMMARY_MAX)
    ratings: list[RatingIn] = Field(default_factory=list, max_length=500)


class AgreedPut(WriteModel):
    """Upserts the listed agreed ratings and/or the summary. Voids existing signatures."""

    version: Annotated[Version, Field(ge=1)] = Field(
        description="The review version you last read."
    )
    summary: str | None = Field(default=None, max_length=rules.SUMMARY_MAX)
    ratings: list[RatingIn] = Field(default_factory=list, max_length=500)


class SignatureCreate(WriteModel):
    role: Party
    password: str = Field(min_length=1, max_length=1024)


class ReopenCreate(WriteModel):
    reason: str = Field(min_length=1, max_length=rules.REASON_MAX)


class ReviewDatesPatch(WriteModel):
    starts_on: date
    ends_on: date


class PersonRef(ReadModel):
    id: int
    full_name: str


class RatingRead(ReadModel):
    level: int | None
    not_observed: bool
    comment: str
    updated_at: datetime


class CompetencyRow(ReadModel):
    competency_id: int
    code: str
    statement: str
    block_codes: list[str]
    apprentice: RatingRead | None
    tutor: RatingRead | None
    supervisor: RatingRead | None
    agreed: RatingRead | None
    divergent: bool


class AssessmentRead(ReadModel):
    version: int
    general_comment: str
    updated_by: PersonRef | None


class SignatureRead(ReadModel):
    id: int
    role: str
    signer: PersonRef
    signed_at: datetime
    ip: str | None
    user_agent: str | None
    method: str
    content_hash: str
    voided_at: datetime | None
    void_reason: str | None


class ReviewSummary(ReadModel):
    semester: int
    starts_on: date
    ends_on: date
    state: str
    overdue: bool
    version: int
    locked_at: datetime | None
    signed_roles: list[str]


class ReviewRead(ReviewSummary):
    apprenticeship_id: int
    rncp_code: str
    agreed_summary: str
    agreed_complete: bool
    content_hash: str
    assessments: dict[str, AssessmentRead]
    competencies: list[CompetencyRow]
    signatures: list[SignatureRead]


class SignatureCheckRead(ReadModel):
    signature_id: int
    role: str
    signer: PersonRef
    signed_at: datetime
    status: str


class VerificationRead(ReadModel):
    content_hash: str
    intact: bool
    signatures: list[SignatureCheckRead]
