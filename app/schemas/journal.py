"""Work-situation journal and attachment schemas."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from app.models import SituationStatus
from app.schemas.apprenticeship import PersonRead
from app.schemas.common import ReadModel, Version, WriteModel
from app.services.journal.rules import (
    CODE_PATTERN,
    COMMENT_MAX,
    COMPETENCIES_MAX,
    TEXT_MAX,
    TITLE_MAX,
)

_CODE = re.compile(CODE_PATTERN)


class WorkSituationCreate(WriteModel):
    """A new draft. ``competency_codes`` lists the competencies this situation evidences, by
    their referential code (``RNCP39303BC01-C02``, or ``CT1`` for a transversal competency);
    each must belong to the apprenticeship's certification. Dates are inclusive and
    ``ends_on`` may not be before ``starts_on``."""

    title: str = Field(min_length=1, max_length=TITLE_MAX)
    starts_on: date
    ends_on: date
    context: str = Field(default="", max_length=TEXT_MAX, description="Mission, team, setting")
    actions: str = Field(default="", max_length=TEXT_MAX, description="What the apprentice did")
    results: str = Field(default="", max_length=TEXT_MAX)
    learnings: str = Field(default="", max_length=TEXT_MAX, description="Reflection")
    competency_codes: list[str] = Field(min_length=1, max_length=COMPETENCIES_MAX)

    @field_validator("competency_codes")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        cleaned = [code.strip() for code in codes]
        if not all(_CODE.fullmatch(code) for code in cleaned):
            raise ValueError("each competency code has 1 to 40 letters, digits, '-', '_' or '.'")
        return cleaned


class WorkSituationUpdate(WriteModel):
    """A partial edit of a draft. ``version`` is the version the client last read; a stale one
    answers 409. Omitted fields are left as they are; ``null`` is refused."""

    version: Annotated[Version, Field(ge=1)]
    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    starts_on: date | None = None
    ends_on: date | None = None
    context: str | None = Field(default=None, max_length=TEXT_MAX)
    actions: str | None = Field(default=None, max_length=TEXT_MAX)
    results: str | None = Field(default=None, max_length=TEXT_MAX)
    learnings: str | None = Field(default=None, max_length=TEXT_MAX)
    competency_codes: list[str] | None = Field(
        default=None, min_length=1, max_length=COMPETENCIES_MAX
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(key for key, value in data.items() if value is None)
            if nulls:
                raise ValueError(f"fields may be omitted but not null: {', '.join(nulls)}")
        return data

    @field_validator("competency_codes")
    @classmethod
    def _codes(cls, codes: list[str] | None) -> list[str] | None:
        return None if codes is None else WorkSituationCreate._codes(codes)


class AcknowledgementCreate(WriteModel):
    comment: str = Field(default="", max_length=COMMENT_MAX)


class ChangeRequestCreate(WriteModel):
    comment: str = Field(min_length=1, max_length=COMMENT_MAX)


class SituationCompetencyRead(ReadModel):
    id: int
    code: str
    statement: str
    statement_en: str
    block_code: str | None  # None for a transversal competency


class AttachmentRead(ReadModel):
    id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime
    uploaded_by_id: int
    url: str


class WorkSituationRead(ReadModel):
    id: int
    apprenticeship_id: int
    title: str
    starts_on: date
    ends_on: date
    context: str
    actions: str
    results: str
    learnings: str
    status: SituationStatus
    version: int
    submitted_at: datetime | None
    acknowledged_at: datetime | None
    reviewed_by: PersonRead | None
    tutor_comment: str
    competencies: list[SituationCompetencyRead]
    attachments: list[AttachmentRead]
    created_at: datetime
    updated_at: datetime


class WorkSituationPage(ReadModel):
    items: list[WorkSituationRead]
    total: int
    limit: int
    offset: int
