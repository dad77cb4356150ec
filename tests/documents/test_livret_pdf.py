"""The livret as PDF: content, metadata, who may download it, the API route and the CLI."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import Settings
from app.db import make_engine
from app.models import (
    Apprenticeship,
    Attachment,
    Competency,
    EnglishResult,
    Party,
    SemesterReview,
    Signature,
    SituationStatus,
    WorkSituation,
)
from app.models.base import utcnow
from app.services.documents import livret as livret_service
from app.services.documents import livret_pdf
from app.services.referentials.views import referential_for
from app.services.reviews import workflow as review_service
from app.services.reviews.workflow import RatingInput
from app.web.templating import hash_groups
from tests.factories import PASSWORD, certification
from tests.helpers import Personas, bearer, login_as
from tests.querycount import count_queries


def _lock_semester(db: Session, settings: Settings, p: Personas, semester: int, level: int) -> None:
    """Agree every competency (one "not observed", one commented) and sign as all three."""
    appr_id = p.apprenticeship_a.id
    ref = referential_for(db, certification(db))
    detail = review_service.load_detail(db, p.tutor_a, appr_id, semester)
    items = [RatingInput(c.id, level) for c in ref.competencies]
    items[0] = RatingInput(ref.competencies[0].id, None, not_observed=True, comment="Pas vu")
    review_service.save_agreed(
        db,
        p.tutor_a,
        appr_id,
        semester,
        version=detail.review.version,
        ratings=items,
        summary=f"Bilan du semestre {semester}",
    )
    review_service.save_assessment(
        db,
        p.apprentice_a,
        appr_id,
        semester,
        Party.APPRENTICE,
        version=0,
        ratings=[RatingInput(ref.competencies[1].id, 2, comment="Autoévaluation")],
        general_comment="Mon semestre",
    )
    for user, role in (
        (p.apprentice_a, Party.APPRENTICE),
        (p.tutor_a, Party.TUTOR),
        (p.supervisor_a, Party.SUPERVISOR),
    ):
        review_service.sign(
            db, settings, user, appr_id, semester, role, password=PASSWORD, ip="192.0.2.7"
        )


def _add_situation(db: Session, p: Personas, title: str, *, acknowledged: bool) -> WorkSituation:
    ref = referential_for(db, certification(db))
    competencies = db.scalars(
        select(Competency).where(Competency.id.in_([c.id for c in ref.competencies[:2]]))
    ).all()
    situation = WorkSituation(
        apprenticeship_id=p.apprenticeship_a.id,
        title=title,
        starts_on=date(2025, 10, 1),
        ends_on=date(2025, 10, 10),
        context="Contexte de la mission",
        actions="Ce que j'ai fait",
        results="Résultats",
        learnings="Appris",
        status=SituationStatus.ACKNOWLEDGED if acknowledged else SituationStatus.SUBMITTED,
        submitted_at=utcnow(),
        acknowledged_at=utcnow() if acknowledged else None,
        reviewed_by_id=p.tutor_a.id if acknowledged else None,
        tutor_comment="Bravo" if acknowledged else "",
        competencies=list(competencies),
    )
    db.add(situation)
    db.flush()
    return situation


@pytest.fixture
def livret_a(db: Session, settings: Settings, personas: Personas) -> Personas:
    """Apprentice A with two locked reviews, two situations (one with an attachment), a
    draft that must not appear, and an English result."""
    _lock_semester(db, settings, personas, 1, 2)
    _lock_semester(db, settings, personas, 2, 3)
    first = _add_situation(db, personas, "Audit de ligne", acknowledged=True)
    _add_situation(db, personas, "Revue de conception", acknowledged=False)
    draft = _add_situation(db, personas, "Brouillon secret", acknowledged=False)
    draft.status = SituationStatus.DRAFT
    db.add(
        Attachment(
            work_situation_id=first.id,
            filename="rapport-audit.pdf",
            stored_name="a" * 64,
            content_type="application/pdf",
            size_bytes=1234,
            sha256="b" * 64,
            uploaded_by_id=personas.apprentice_a.id,
            uploaded_at=utcnow(),
        )
    )
    db.add(
        EnglishResult(
            apprenticeship_id=personas.apprenticeship_a.id,
            test_name="TOEIC",
            score="905",
            cefr_level="B2",
            taken_on=date(2026, 5, 1),
        )
    )
    db.flush()
    return personas


def _text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def _hashes(db: Session, appr_id: int) -> set[str]:
    return set(
        db.scalars(
            select(Signature.content_hash)
            .join(SemesterReview, SemesterReview.id == Signature.review_id)
            .where(SemesterReview.apprenticeship_id == appr_id, Signature.voided_at.is_(None))
        )
    )


def test_livret_pdf_content_and_metadata(db, settings, livret_a) -> None:
    p = livret_a
    document = livret_service.load_livret(db, settings, p.supervisor_a, p.apprenticeship_a.id)
    assert [r.semester for r in document.reviews] == [1, 2]
    assert all(r.intact for r in document.reviews)
    pdf = livret_pdf.render_pdf(document, "fr")
    assert pdf.startswith(b"%PDF-") and len(pdf) < 2 * 1024 * 1024
    reader, text = _text(pdf)
    assert p.apprentice_a.full_name in text
    for name in (p.tutor_a.full_name, p.supervisor_a.full_name, "Audit de ligne"):
        assert name in text
    assert "Brouillon secret" not in text  # drafts stay private
    assert "rapport-audit.pdf" in text and "TOEIC" in text
    assert "Bilan du semestre 2" in text and "Mon semestre" in text and "Pas vu" in text
    for block in document.referential.blocks:
        assert block.code in text
    hashes = _hashes(db, p.apprenticeship_a.id)
    assert len(hashes) == 2  # one agreed content per locked review, signed by all three
    for content_hash in hashes:
        for group in hash_groups(content_hash):
            assert group in text
    url = f"{settings.base_url}/apprenticeships/{p.apprenticeship_a.id}/reviews/2"
    assert url in text
    assert "192.0.2.7" in text
    meta = reader.metadata
    assert meta is not None and meta.author == p.apprentice_a.full_name
    assert meta.title and p.apprentice_a.full_name in meta.title
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points


def test_livret_in_english_and_filename(db, settings, livret_a) -> None:
    p = livret_a
    document = livret_service.load_livret(db, settings, p.admin, p.apprenticeship_a.id)
    reader, text = _text(livret_pdf.render_pdf(document, "en"))
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert "Signature certificates" in text
    name = livret_pdf.filename(document)
    assert name == f"livret-rncp39303-alice-apprentie-{p.apprenticeship_a.id}.pdf"


def test_hash_groups_keep_the_whole_hash() -> None:
    digest = "0123456789abcdef" * 4
    groups = hash_groups(digest)
    assert len(groups) == 4 and "".join(groups) == digest


def test_loading_is_a_fixed_number_of_queries_and_rendering_none(
    db, connection: Connection, settings, personas
) -> None:
    p = personas
    _lock_semester(db, settings, p, 1, 2)
    _add_situation(db, p, "Situation 0", acknowledged=True)
    livret_service.load_livret(db, settings, p.admin, p.apprenticeship_a.id)  # warm caches
    db.expire_all()
    with count_queries(connection) as small:
        livret_service.load_livret(db, settings, p.admin, p.apprenticeship_a.id)
    _lock_semester(db, settings, p, 2, 3)
    for i in range(1, 8):
        _add_situation(db, p, f"Situation {i}", acknowledged=i % 2 == 0)
    livret_service.load_livret(db, settings, p.admin, p.apprenticeship_a.id)  # the new lock
    db.expire_all()
    with count_queries(connection) as large:
        document = livret_service.load_livret(db, settings, p.admin, p.apprenticeship_a.id)
    assert len(document.reviews) == 2 and len(document.situations) == 8
    print(f"livret queries: {small.count} (1 review, 1 situation), {large.count} (2, 8)")
    assert small.count == large.count
    with count_queries(connection) as rendering:
        livret_pdf.render_pdf(document)
    assert rendering.count == 0


def test_cohort_livrets_load_every_apprentice_without_an_actor(db, settings, personas) -> None:
    cohort_id = personas.apprenticeship_a.cohort_id
    documents = livret_service.load_cohort_livrets(db, settings, cohort_id)
    assert {d.apprenticeship.id for d in documents} == {
        personas.apprenticeship_a.id,
        personas.apprenticeship_b.id,
    }


# --- Who may download it --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["apprentice_a", "tutor_a", "supervisor_a", "admin"])
def test_parties_and_admins_download_the_pdf(client, db, settings, personas, who) -> None:
    login_as(client, db, settings, getattr(personas, who))
    response = client.get(f"/apprenticeships/{personas.apprenticeship_a.id}/livret.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and 'filename="livret-rncp39303-' in disposition
    assert response.headers["cache-control"] == "private, no-store"
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize("who", ["tutor_b", "supervisor_b", "apprentice_b", "outsider"])
def test_others_get_404(client, db, settings, personas, who) -> None:
    login_as(client, db, settings, getattr(personas, who))
    response = client.get(f"/apprenticeships/{personas.apprenticeship_a.id}/livret.pdf")
    assert response.status_code == 404
    assert personas.apprentice_a.full_name not in response.text


def test_anonymous_is_sent_to_login(client, personas) -> None:
    response = client.get(f"/apprenticeships/{personas.apprenticeship_a.id}/livret.pdf")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_portfolio_page_links_to_the_pdf(client, db, settings, personas) -> None:
    login_as(client, db, settings, personas.apprentice_a)
    page = client.get(f"/apprenticeships/{personas.apprenticeship_a.id}")
    assert f'href="/apprenticeships/{personas.apprenticeship_a.id}/livret.pdf"' in page.text


def test_api_route_with_a_bearer_token(client, db, personas) -> None:
    url = f"/api/v1/apprenticeships/{personas.apprenticeship_a.id}/livret.pdf"
    english_tutor = personas.tutor_a
    english_tutor.locale = "en"
    db.flush()
    response = client.get(url, headers=bearer(db, english_tutor))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert reader.trailer["/Root"]["/Lang"] == "en"  # the token owner's language
    outsider = client.get(url, headers=bearer(db, personas.tutor_b))
    assert outsider.status_code == 404
    assert outsider.headers["content-type"].startswith("application/problem+json")
    assert client.get(url).status_code == 401


# --- Command line ---------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("LIVRET_DATABASE_URL", url)
    monkeypatch.setenv("LIVRET_DATA_DIR", str(tmp_path))
    for args in (
        ["db", "upgrade"],
        ["seed", "referentials"],
        ["seed", "demo", "--apprentices", "4"],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    return url


def test_cli_exports_one_pdf_per_apprentice_of_the_cohort(demo_db: str, tmp_path: Path) -> None:
    engine = make_engine(demo_db)
    with Session(engine) as session:
        cohort_id, count = session.execute(
            select(Apprenticeship.cohort_id, func.count())
            .group_by(Apprenticeship.cohort_id)
            .order_by(func.count().desc(), Apprenticeship.cohort_id)
            .limit(1)
        ).one()
    engine.dispose()
    assert count >= 2
    out = tmp_path / "livrets"
    result = runner.invoke(
        cli, ["export", "livrets", "--cohort", str(cohort_id), "--out", str(out), "--locale", "en"]
    )
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.pdf"))
    assert len(files) == count
    for path in files:
        assert str(path) in result.output
        reader = PdfReader(path)
        assert reader.trailer["/Root"]["/Lang"] == "en"
    assert f"{count} livret(s) written" in result.output


def test_cli_refuses_an_unknown_cohort_or_locale(demo_db: str, tmp_path: Path) -> None:
    unknown = runner.invoke(cli, ["export", "livrets", "--cohort", "999", "--out", str(tmp_path)])
    assert unknown.exit_code == 2 and "No such cohort" in unknown.output
    bad_locale = runner.invoke(
        cli, ["export", "livrets", "--cohort", "1", "--out", str(tmp_path), "--locale", "de"]
    )
    assert bad_locale.exit_code == 2
