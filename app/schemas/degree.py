"""English results and mobility periods."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from app.schemas.common import ReadModel, WriteModel
from app.schemas.journal import AttachmentRead
from app.services.degree_conditions.rules import HOST_MAX, SCORE_MAX, TEST_NAME_MAX

CefrLevel = Literal["A1", "A2", "B1", "B2", "C1", "C2"]


class EnglishResultCreate(WriteModel):
    """An English test result. The certificate is sent afterwards, as a file, to
    ``POST /api/v1/english-results/{id}/attachments``."""

    test_name: str = Field(min_length=1, max_length=TEST_NAME_MAX, examples=["TOEIC"])
    score: str = Field(min_length=1, max_length=SCORE_MAX, examples=["890"])
    cefr_level: CefrLevel
    taken_on: date


class EnglishResultRead(ReadModel):
    id: int
    apprenticeship_id: int
    test_name: str
    score: str
    cefr_level: str
    taken_on: date
    attachments: list[AttachmentRead]
    created_at: datetime


class MobilityPeriodCreate(WriteModel):
    """A period abroad. ``country`` is an ISO 3166-1 alpha-2 code; ``ends_on`` may not be
    before ``starts_on`` (both inclusive)."""

    country: str = Field(min_length=2, max_length=2, examples=["DE"])
    host: str = Field(min_length=1, max_length=HOST_MAX)
    starts_on: date
    ends_on: date


class MobilityPeriodRead(ReadModel):
    id: int
    apprenticeship_id: int
    country: str
    host: str
    starts_on: date
    ends_on: date
    weeks: int
    created_at: datetime
