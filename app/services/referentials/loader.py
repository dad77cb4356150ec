"""Referentials: idempotent loading from ``seeds/referentials/*.toml`` and read queries."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.config import PROJECT_ROOT
from app.models import (
    BlockTransversalLink,
    Certification,
    Competency,
    CompetencyBlock,
    DegreeRequirements,
    RatingLevel,
)
from app.models.base import utcnow

REFERENTIALS_DIR = PROJECT_ROOT / "seeds" / "referentials"

DEFAULT_SCALE: tuple[tuple[int, str, str], ...] = (
    (1, "Non acquis", "Not acquired"),
    (2, "En cours d'acquisition", "Being acquired"),
    (3, "Acquis", "Acquired"),
    (4, "Maîtrisé", "Mastered"),
)
DEFAULT_ACQUIRED_THRESHOLD = 3


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def merge(self, other: LoadReport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.deleted += other.deleted


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    """Set attributes that differ; return whether anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def competency_code(block_code: str, position: int) -> str:
    return f"{block_code}-C{position:02d}"


def load_referential_file(session: Session, path: Path) -> LoadReport:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return load_referential(session, data)


def load_referential(session: Session, data: dict[str, Any]) -> LoadReport:
    """Create or update one certification in place from parsed seed data. Re-running with the
    same data changes nothing; edited data updates rows in place, never duplicates them."""
    report = LoadReport()
    cert_data = data["certification"]
    code = cert_data["rncp_code"]
    cert = session.scalars(
        select(Certification)
        .where(Certification.rncp_code == code)
        .options(
            selectinload(Certification.blocks)
            .selectinload(CompetencyBlock.transversal_links)
            .joinedload(BlockTransversalLink.competency),
            selectinload(Certification.competencies).joinedload(Competency.block),
            selectinload(Certification.rating_levels),
            selectinload(Certification.requirements),
        )
    ).one_or_none()
    scale = data.get("scale", {})
    cert_values = {
        "title": cert_data["title"],
        "title_en": cert_data.get("title_en", ""),
        "level": int(cert_data["level"]),
        "certifier_name": cert_data["certifier_name"],
        "certifier_siret": cert_data.get("certifier_siret", ""),
        "certifier_website": cert_data.get("certifier_website", ""),
        "nsf_codes": cert_data.get("nsf_codes", []),
        "formacodes": cert_data.get("formacodes", []),
        "rome_codes": cert_data.get("rome_codes", []),
        "registration_ends_on": cert_data.get("registration_ends_on"),
        "previous_certification": cert_data.get("previous_certification", ""),
        "acquired_threshold": int(scale.get("acquired_threshold", DEFAULT_ACQUIRED_THRESHOLD)),
    }
    if cert is None:
        cert = Certification(rncp_code=code, **cert_values)
        cert.blocks = []
        cert.competencies = []
        cert.rating_levels = []
        cert.requirements = None
        session.add(cert)
        report.created.append(code)
    elif _assign(cert, cert_values):
        report.updated.append(code)

    # Rating scale.
    levels = scale.get("levels") or [
        {"value": v, "label_fr": fr, "label_en": en} for v, fr, en in DEFAULT_SCALE
    ]
    existing_levels = {lvl.value: lvl for lvl in cert.rating_levels}
    for lvl in levels:
        values = {"label_fr": lvl["label_fr"], "label_en": lvl["label_en"]}
        current = existing_levels.pop(int(lvl["value"]), None)
        if current is None:
            cert.rating_levels.append(RatingLevel(value=int(lvl["value"]), **values))
            report.created.append(f"{code} level {lvl['value']}")
        elif _assign(current, values):
            report.updated.append(f"{code} level {lvl['value']}")
    for stale in existing_levels.values():
        cert.rating_levels.remove(stale)
        report.deleted.append(f"{code} level {stale.value}")

    # Requirements.
    req_data = data.get("requirements", {})
    req_values = {
        "all_blocks_required": bool(req_data.get("all_blocks_required", True)),
        "english_cefr_level": req_data.get("english_cefr_level", "B2"),
        "mobility_min_weeks": int(req_data.get("mobility_min_weeks", 0)),
        "mobility_recommended_weeks": req_data.get("mobility_recommended_weeks"),
        "company_periods_required": bool(req_data.get("company_periods_required", True)),
        "text": req_data.get("text", ""),
    }
    if cert.requirements is None:
        cert.requirements = DegreeRequirements(**req_values)
        report.created.append(f"{code} requirements")
    elif _assign(cert.requirements, req_values):
        report.updated.append(f"{code} requirements")

    competencies_by_code = {c.code: c for c in cert.competencies}
    seen_codes: set[str] = set()

    def upsert_competency(
        comp_code: str, block: CompetencyBlock | None, position: int, statement: str, en: str
    ) -> Competency:
        values = {"block": block, "position": position, "statement": statement, "statement_en": en}
        seen_codes.add(comp_code)
        comp = competencies_by_code.get(comp_code)
        if comp is None:
            comp = Competency(code=comp_code, **values)
            cert.competencies.append(comp)
            competencies_by_code[comp_code] = comp
            report.created.append(comp_code)
        elif _assign(comp, values):
            report.updated.append(comp_code)
        return comp

    # Transversal competencies: defined once.
    for position, ct in enumerate(data.get("transversal_competencies", []), start=1):
        upsert_competency(ct["code"], None, position, ct["statement"], ct.get("statement_en", ""))

    blocks_by_code = {b.code: b for b in cert.blocks}
    seen_blocks: set[str] = set()
    for position, block_data in enumerate(data.get("blocks", []), start=1):
        block_code = block_data["code"]
        seen_blocks.add(block_code)
        values = {
            "title": block_data["title"],
            "title_en": block_data.get("title_en", ""),
            "position": position,
            "evaluation_methods": block_data.get("evaluation_methods", "").strip(),
        }
        block = blocks_by_code.get(block_code)
        if block is None:
            block = CompetencyBlock(code=block_code, **values)
            block.transversal_links = []
            cert.blocks.append(block)
            report.created.append(block_code)
        elif _assign(block, values):
            report.updated.append(block_code)
        for comp_position, item in enumerate(block_data.get("competencies", []), start=1):
            statement, statement_en = (
                (item, "") if isinstance(item, str) else (item["statement"], item.get("en", ""))
            )
            upsert_competency(
                competency_code(block_code, comp_position),
                block,
                comp_position,
                statement,
                statement_en,
            )
        links_by_code = {link.competency.code: link for link in block.transversal_links}
        seen_links: set[str] = set()
        for link_position, link_data in enumerate(block_data.get("transversal", []), start=1):
            ct_code = link_data["code"]
            seen_links.add(ct_code)
            competency = competencies_by_code[ct_code]
            link_values = {
                "position": link_position,
                "statement_variant": link_data.get("statement"),
            }
            link = links_by_code.get(ct_code)
            if link is None:
                block.transversal_links.append(
                    BlockTransversalLink(competency=competency, **link_values)
                )
                report.created.append(f"{block_code}->{ct_code}")
            elif _assign(link, link_values):
                report.updated.append(f"{block_code}->{ct_code}")
        for ct_code, link in links_by_code.items():
            if ct_code not in seen_links:
                block.transversal_links.remove(link)
                report.deleted.append(f"{block_code}->{ct_code}")

    for comp_code, comp in competencies_by_code.items():
        if comp_code not in seen_codes:
            cert.competencies.remove(comp)
            report.deleted.append(comp_code)
    for block_code, block in blocks_by_code.items():
        if block_code not in seen_blocks:
            cert.blocks.remove(block)
            report.deleted.append(block_code)
    if report.changed and code not in report.created:
        # Child rows changed: bump the certification so cached views are rebuilt.
        cert.updated_at = max(utcnow(), cert.updated_at + timedelta(microseconds=1))
    session.flush()
    return report


def load_all_referentials(session: Session, directory: Path = REFERENTIALS_DIR) -> LoadReport:
    report = LoadReport()
    for path in sorted(directory.glob("*.toml")):
        report.merge(load_referential_file(session, path))
    return report


# --- Reads -----------------------------------------------------------------------------------
