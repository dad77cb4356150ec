"""Progress schemas (read from the progress service's dataclasses)."""

from __future__ import annotations

from datetime import date

from app.schemas.common import ReadModel


class CompetencyProgressRead(ReadModel):
    competency_id: int
    code: str
    statement: str
    transversal: bool
    level: int | None
    rated_in_semester: int | None
    acquired: bool
    evidence_count: int
    observed: bool


class BlockProgressRead(ReadModel):
    code: str
    title: str
    title_en: str
    acquired_count: int
    total: int
    acquired_percent: int
    mean_level: float | None
    never_observed: list[str]
    status: str
    competencies: list[CompetencyProgressRead]


class ReviewStatusRead(ReadModel):
    semester: int
    starts_on: date
    ends_on: date
    state: str
    overdue: bool
    signature_count: int


class ReadinessRead(ReadModel):
    ready: bool
    blocks_acquired: int
    blocks_total: int
    blocks_ok: bool
    english_required: str
    english_best: str | None
    english_ok: bool
    mobility_weeks: int
    mobility_min_weeks: int
    mobility_ok: bool
    periods_validated: int
    periods_total: int
    periods_ok: bool


class ProgressRead(ReadModel):
    apprenticeship_id: int
    rncp_code: str
    acquired_threshold: int
    blocks: list[BlockProgressRead]
    reviews: list[ReviewStatusRead]
    readiness: ReadinessRead
    pending_semesters: list[int]
    overdue_semesters: list[int]
