"""Referential read models."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from app.schemas.common import ReadModel


class CompetencyRead(ReadModel):
    id: int
    code: str
    statement: str
    statement_en: str
    position: int
    transversal: bool = False


class TransversalLinkRead(ReadModel):
    code: str
    statement: str


class BlockRead(ReadModel):
    id: int
    code: str
    title: str
    title_en: str
    position: int
    evaluation_methods: str
    competencies: list[CompetencyRead]
    transversal: list[TransversalLinkRead]


class RatingLevelRead(ReadModel):
    value: int
    label_fr: str
    label_en: str


class ScaleRead(ReadModel):
    levels: list[RatingLevelRead]
    acquired_threshold: int
    not_observed_label_fr: str = "Non observé"
    not_observed_label_en: str = "Not observed"


class RequirementsRead(ReadModel):
    all_blocks_required: bool
    english_cefr_level: str
    mobility_min_weeks: int
    mobility_recommended_weeks: int | None
    company_periods_required: bool
    text: str


class CertificationSummary(ReadModel):
    id: int = Field(description="The `certification_id` a new cohort takes.")
    rncp_code: str
    title: str
    title_en: str
    level: int
    block_count: int


class CertificationRead(ReadModel):
    rncp_code: str
    title: str
    title_en: str
    level: int
    certifier_name: str
    certifier_siret: str
    certifier_website: str
    nsf_codes: list[dict[str, Any]]
    formacodes: list[dict[str, Any]]
    rome_codes: list[dict[str, Any]]
    registration_ends_on: date | None
    previous_certification: str
    blocks: list[BlockRead]
    transversal_competencies: list[CompetencyRead]
    scale: ScaleRead
    requirements: RequirementsRead | None
