"""The two RNCP referentials: counts, verbatim text, idempotent loading, in-place updates."""

from __future__ import annotations

import copy
import tomllib

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import BlockTransversalLink, Certification, Competency, CompetencyBlock
from app.services.referentials import catalog
from app.services.referentials import loader as svc


def _counts(db: Session, code: str) -> tuple[int, int, int]:
    cert = catalog.get_certification(db, code)
    block_comps = sum(len(b.competencies) for b in cert.blocks)
    transversal = sum(1 for c in cert.competencies if c.block_id is None)
    return len(cert.blocks), block_comps, transversal


def _seed_data(code: str) -> dict:
    with (svc.REFERENTIALS_DIR / f"{code}.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_loaded_counts_match_the_fiches(db: Session) -> None:
    assert _counts(db, "RNCP39303") == (4, 33, 0)
    assert _counts(db, "RNCP39668") == (7, 28, 3)


def test_second_load_changes_nothing_and_duplicates_nothing(db: Session) -> None:
    before = db.scalar(select(func.count(Competency.id)))
    report = svc.load_all_referentials(db)
    assert not report.changed, report
    assert db.scalar(select(func.count(Competency.id))) == before
    assert _counts(db, "RNCP39303") == (4, 33, 0)
    assert _counts(db, "RNCP39668") == (7, 28, 3)


def test_transversal_competencies_are_defined_once_and_linked_to_four_blocks(db: Session) -> None:
    cert = catalog.get_certification(db, "RNCP39668")
    transversal = [c for c in cert.competencies if c.block_id is None]
    assert [c.code for c in transversal] == ["CT1", "CT2", "CT3"]
    linked = {b.code: [link.competency.code for link in b.transversal_links] for b in cert.blocks}
    assert {code for code, cts in linked.items() if cts} == {
        "RNCP39668BC02",
        "RNCP39668BC03",
        "RNCP39668BC05",
        "RNCP39668BC07",
    }
    assert all(cts in ([], ["CT1", "CT2", "CT3"]) for cts in linked.values())
    bc05 = next(b for b in cert.blocks if b.code == "RNCP39668BC05")
    bc02 = next(b for b in cert.blocks if b.code == "RNCP39668BC02")
    ct2_bc05 = next(link for link in bc05.transversal_links if link.competency.code == "CT2")
    ct2_bc02 = next(link for link in bc02.transversal_links if link.competency.code == "CT2")
    assert ct2_bc05.statement.startswith("Savoir communiquer, vendre, pitcher, négocier")
    assert ct2_bc02.statement_variant is None
    assert ct2_bc02.statement == (
        "Savoir communiquer, négocier pour convaincre des parties prenantes internes et externes, "
        "y compris en langue étrangère"
    )


def test_statements_are_verbatim(db: Session) -> None:
    mech = catalog.get_certification(db, "RNCP39303")
    bc01 = mech.blocks[0]
    assert bc01.code == "RNCP39303BC01"
    assert bc01.competencies[0].statement == (
        "Proposer des solutions aux problèmes nécessitant une connaissance de la mécanique en "
        "recourant aux fondamentaux scientifiques et techniques de la discipline."
    )
    aero = catalog.get_certification(db, "RNCP39668")
    assert aero.blocks[0].title == (
        "Résoudre des problèmes à causalités multiples en mobilisant des savoirs scientifiques "
        "et techniques"
    )
    assert aero.blocks[0].competencies[0].statement == (
        "Analyser le comportement d’un système complexe en tenant compte de son environnement"
    )
    assert all(b.evaluation_methods for b in mech.blocks + aero.blocks)


def test_certification_identity_scale_and_requirements(db: Session) -> None:
    mech = catalog.get_certification(db, "RNCP39303")
    assert mech.level == 7
    assert mech.certifier_siret == "19753472000010"
    assert mech.registration_ends_on is not None
    assert mech.registration_ends_on.isoformat() == "2026-08-31"
    assert [lvl.label_fr for lvl in mech.rating_levels] == [
        "Non acquis",
        "En cours d'acquisition",
        "Acquis",
        "Maîtrisé",
    ]
    assert mech.acquired_threshold == 3
    assert mech.requirements is not None
    assert mech.requirements.english_cefr_level == "B2"
    assert mech.requirements.mobility_min_weeks == 12
    aero = catalog.get_certification(db, "RNCP39668")
    assert aero.requirements is not None
    assert aero.requirements.mobility_min_weeks == 9
    assert aero.requirements.mobility_recommended_weeks == 12


def test_edited_seed_updates_in_place(db: Session) -> None:
    data = copy.deepcopy(_seed_data("RNCP39303"))
    data["blocks"][0]["competencies"][1] = "Énoncé modifié pour le test."
    data["blocks"][1]["title"] = "Titre modifié"
    ids_before = set(db.scalars(select(Competency.id)))
    report = svc.load_referential(db, data)
    assert report.updated == ["RNCP39303BC01-C02", "RNCP39303BC02"]
    assert not report.created and not report.deleted
    assert set(db.scalars(select(Competency.id))) == ids_before
    changed = db.scalars(select(Competency).where(Competency.code == "RNCP39303BC01-C02")).one()
    assert changed.statement == "Énoncé modifié pour le test."


def test_seed_removing_a_transversal_link_deletes_only_that_link(db: Session) -> None:
    data = copy.deepcopy(_seed_data("RNCP39668"))
    bc07 = next(b for b in data["blocks"] if b["code"] == "RNCP39668BC07")
    bc07["transversal"] = [link for link in bc07["transversal"] if link["code"] != "CT3"]
    report = svc.load_referential(db, data)
    assert report.deleted == ["RNCP39668BC07->CT3"]
    assert db.scalar(select(func.count(BlockTransversalLink.id))) == 11


def test_unknown_certification_is_not_found(db: Session) -> None:
    from app.services.errors import NotFound

    with pytest.raises(NotFound):
        catalog.get_certification(db, "RNCP00000")


def test_blocks_are_ordered(db: Session) -> None:
    codes = db.scalars(
        select(CompetencyBlock.code)
        .join(Certification)
        .where(Certification.rncp_code == "RNCP39668")
        .order_by(CompetencyBlock.position)
    ).all()
    assert codes == [f"RNCP39668BC0{i}" for i in range(1, 8)]
