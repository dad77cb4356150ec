"""Immutable, cached views of a certification's referential.

Referentials change only when seeds are loaded; the loader bumps the certification's
``updated_at`` on every change, so a cache keyed on ``(id, updated_at)`` can never serve stale
data, and pages that need the whole referential cost no query once it is warm."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import BlockTransversalLink, Certification, CompetencyBlock


@dataclass(frozen=True)
class CompetencyView:
    id: int
    code: str
    statement: str
    statement_en: str
    block_id: int | None
    position: int

    @property
    def is_transversal(self) -> bool:
        return self.block_id is None


@dataclass(frozen=True)
class BlockCompetency:
    """A competency as it appears in a block (a transversal one may be worded differently)."""

    competency: CompetencyView
    statement: str
    transversal: bool


@dataclass(frozen=True)
class BlockView:
    id: int
    code: str
    title: str
    title_en: str
    position: int
    items: tuple[BlockCompetency, ...]  # own competencies, then linked transversal ones

    @cached_property  # views are cached and immutable: computed once, not per apprentice
    def competency_ids(self) -> tuple[int, ...]:
        return tuple(item.competency.id for item in self.items)


@dataclass(frozen=True)
class LevelView:
    value: int
    label_fr: str
    label_en: str


@dataclass(frozen=True)
class RequirementsView:
    all_blocks_required: bool
    english_cefr_level: str
    mobility_min_weeks: int
    mobility_recommended_weeks: int | None
    company_periods_required: bool


@dataclass(frozen=True)
class ReferentialView:
    certification_id: int
    rncp_code: str
    title: str
    title_en: str
    acquired_threshold: int
    levels: tuple[LevelView, ...]
    blocks: tuple[BlockView, ...]
    competencies: tuple[CompetencyView, ...]  # every competency once, in display order
    requirements: RequirementsView

    @property
    def level_values(self) -> frozenset[int]:
        return frozenset(level.value for level in self.levels)

    def competency_by_id(self) -> dict[int, CompetencyView]:
        return {c.id: c for c in self.competencies}

    def competency_by_code(self) -> dict[str, CompetencyView]:
        return {c.code: c for c in self.competencies}


def short_code(code: str) -> str:
    """ "RNCP39303BC02" -> "BC02", "RNCP39303BC02-C03" -> "BC02-C03"; "CT1" stays."""
    index = code.find("BC")
    return code[index:] if index >= 0 else code


_cache: dict[int, tuple[datetime, ReferentialView]] = {}
_lock = threading.Lock()


def referential_for(session: Session, certification: Certification) -> ReferentialView:
    """The view of ``certification`` (already loaded), from cache when it is current."""
    with _lock:
        hit = _cache.get(certification.id)
    if hit is not None and hit[0] == certification.updated_at:
        return hit[1]
    view = _build(session, certification.id)
    with _lock:
        _cache[certification.id] = (certification.updated_at, view)
    return view


def _build(session: Session, certification_id: int) -> ReferentialView:
    cert = session.scalars(
        select(Certification)
        .where(Certification.id == certification_id)
        .options(
            selectinload(Certification.rating_levels),
            selectinload(Certification.requirements),
            selectinload(Certification.competencies),
            selectinload(Certification.blocks)
            .selectinload(CompetencyBlock.transversal_links)
            .joinedload(BlockTransversalLink.competency),
        )
        .execution_options(populate_existing=True)
    ).one()
    comp_views = {
        c.id: CompetencyView(c.id, c.code, c.statement, c.statement_en, c.block_id, c.position)
        for c in cert.competencies
    }
    own: dict[int, list[CompetencyView]] = {}
    for view in comp_views.values():
        if view.block_id is not None:
            own.setdefault(view.block_id, []).append(view)
    blocks = []
    for block in sorted(cert.blocks, key=lambda b: b.position):
        items = [
            BlockCompetency(view, view.statement, False)
            for view in sorted(own.get(block.id, []), key=lambda v: v.position)
        ]
        items += [
            BlockCompetency(comp_views[link.competency_id], link.statement, True)
            for link in block.transversal_links
        ]
        blocks.append(
            BlockView(
                block.id, block.code, block.title, block.title_en, block.position, tuple(items)
            )
        )
    ordered = [item.competency for b in blocks for item in b.items if not item.transversal]
    ordered += sorted(
        (v for v in comp_views.values() if v.block_id is None), key=lambda v: v.position
    )
    req = cert.requirements
    return ReferentialView(
        certification_id=cert.id,
        rncp_code=cert.rncp_code,
        title=cert.title,
        title_en=cert.title_en,
        acquired_threshold=cert.acquired_threshold,
        levels=tuple(LevelView(lv.value, lv.label_fr, lv.label_en) for lv in cert.rating_levels),
        blocks=tuple(blocks),
        competencies=tuple(ordered),
        requirements=RequirementsView(
            all_blocks_required=req.all_blocks_required if req else True,
            english_cefr_level=req.english_cefr_level if req else "B2",
            mobility_min_weeks=req.mobility_min_weeks if req else 0,
            mobility_recommended_weeks=req.mobility_recommended_weeks if req else None,
            company_periods_required=req.company_periods_required if req else True,
        ),
    )


def clear_cache() -> None:
    with _lock:
        _cache.clear()
