"""Progress toward every block and degree readiness; fixed query counts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import (
    EnglishResult,
    Party,
    SemesterReview,
    SituationStatus,
    WorkSituation,
)
from app.services.progress import loader as progress_cache
from app.services.progress.loader import load_progress, load_progress_many
from app.services.progress.rules import AgreedLevel, compute_progress
from app.services.referentials.views import referential_for
from app.services.reviews import workflow as review_service
from app.services.reviews.workflow import RatingInput
from tests.factories import PASSWORD, certification, make_mobility_period
from tests.helpers import Personas, bearer
from tests.querycount import count_queries

TODAY = date(2026, 11, 21)


def _lock_semester(
    db: Session, settings: Settings, p: Personas, semester: int, levels: dict[int, int | None]
) -> None:
    """Agree ``levels`` (competency id -> level, None = not observed) and sign as all three."""
    appr_id = p.apprenticeship_a.id
    ref = referential_for(db, certification(db))
    detail = review_service.load_detail(db, p.tutor_a, appr_id, semester)
    items = [
        RatingInput(c.id, levels.get(c.id, 1), not_observed=levels.get(c.id, 1) is None)
        for c in ref.competencies
    ]
    review_service.save_agreed(
        db, p.tutor_a, appr_id, semester, version=detail.review.version, ratings=items
    )
    for user, role in (
        (p.apprentice_a, Party.APPRENTICE),
        (p.tutor_a, Party.TUTOR),
        (p.supervisor_a, Party.SUPERVISOR),
    ):
        review_service.sign(db, settings, user, appr_id, semester, role, password=PASSWORD)


def test_progress_counts_only_locked_reviews(db, settings, personas) -> None:
    ref = referential_for(db, certification(db))
    bc01, bc02 = ref.blocks[0], ref.blocks[1]
    # BC01: 10 competencies, 4 acquired (3 or 4), 1 not observed; BC02: 8 at level 3.
    levels: dict[int, int | None] = dict.fromkeys(bc02.competency_ids, 3)
    for i, cid in enumerate(bc01.competency_ids):
        levels[cid] = {0: 3, 1: 4, 2: 3, 3: 3, 4: None}.get(i, 2)
    _lock_semester(db, settings, personas, 1, levels)
    # Semester 2 agreed but not signed: it must not count.
    detail = review_service.load_detail(db, personas.tutor_a, personas.apprenticeship_a.id, 2)
    review_service.save_agreed(
        db,
        personas.tutor_a,
        personas.apprenticeship_a.id,
        2,
        version=detail.review.version,
        ratings=[RatingInput(cid, 4) for cid in bc01.competency_ids],
    )
    appr, progress = load_progress(
        db, settings, personas.supervisor_a, personas.apprenticeship_a.id, today=TODAY
    )
    b1, b2, b3 = progress.blocks[0], progress.blocks[1], progress.blocks[2]
    assert (b1.acquired_count, b1.total, b1.acquired_percent) == (4, 10, 40)
    assert b1.status == "in_progress"
    assert b1.mean_level == pytest.approx((3 + 4 + 3 + 3 + 2 * 5) / 9, abs=0.01)
    assert b1.never_observed == (f"{bc01.code}-C05",)
    assert (b2.acquired_percent, b2.status) == (100, "acquired")
    assert b3.status in ("in_progress", "not_started")
    states = {r.semester: r.state for r in progress.reviews}
    assert states[1] == "locked" and states[2] == "pending" and states[6] == "upcoming"
    assert progress.readiness.periods_validated == 1
    signatures = {r.semester: r.signature_count for r in progress.reviews}
    assert (signatures[1], signatures[2]) == (3, 0)
    # The dashboards' summary: the same figures, without per-competency rows or signatures.
    [summary] = load_progress_many(db, settings, [appr], TODAY, detail=False).values()
    assert [(b.acquired_count, b.acquired_percent, b.status) for b in summary.blocks] == [
        (b.acquired_count, b.acquired_percent, b.status) for b in progress.blocks
    ]
    assert summary.readiness == progress.readiness
    assert [(r.semester, r.state) for r in summary.reviews] == list(states.items())
    assert {r.signature_count for r in summary.reviews} == {None}  # not loaded
    assert all(b.competencies == () for b in summary.blocks)


def test_latest_locked_review_wins(db, settings, personas) -> None:
    ref = referential_for(db, certification(db))
    first = ref.blocks[0].competency_ids[0]
    _lock_semester(db, settings, personas, 1, {first: 4})
    _lock_semester(db, settings, personas, 2, {first: 2})
    _appr, progress = load_progress(
        db, settings, personas.apprentice_a, personas.apprenticeship_a.id, today=TODAY
    )
    item = progress.blocks[0].competencies[0]
    assert (item.level, item.rated_in_semester, item.acquired) == (2, 2, False)


def test_readiness_english_mobility_and_periods(db, settings, personas) -> None:
    appr = personas.apprenticeship_a
    db.add(
        EnglishResult(
            apprenticeship_id=appr.id,
            test_name="TOEIC",
            score="720",
            cefr_level="B1",
            taken_on=date(2026, 1, 10),
        )
    )
    make_mobility_period(db, appr.id)  # 12 weeks
    _appr, progress = load_progress(db, settings, personas.apprentice_a, appr.id, today=TODAY)
    r = progress.readiness
    assert (r.english_best, r.english_ok) == ("B1", False)
    assert (r.mobility_weeks, r.mobility_min_weeks, r.mobility_ok) == (12, 12, True)
    assert (r.periods_validated, r.periods_total, r.periods_ok) == (0, 6, False)
    assert not r.ready
    db.add(
        EnglishResult(
            apprenticeship_id=appr.id,
            test_name="IELTS",
            score="6.5",
            cefr_level="C1",
            taken_on=date(2026, 6, 1),
        )
    )
    db.flush()
    _appr, progress = load_progress(db, settings, personas.apprentice_a, appr.id, today=TODAY)
    assert (progress.readiness.english_best, progress.readiness.english_ok) == ("C1", True)


def test_overdue_reviews(db, settings, personas) -> None:
    _appr, progress = load_progress(
        db, settings, personas.apprentice_a, personas.apprenticeship_a.id, today=date(2026, 3, 30)
    )
    assert progress.overdue_semesters == ()  # semester 1 ended 28 Feb: 30 days later
    _appr, progress = load_progress(
        db, settings, personas.apprentice_a, personas.apprenticeship_a.id, today=date(2026, 3, 31)
    )
    assert progress.overdue_semesters == (1,)


def test_compute_progress_is_pure_and_counts_transversal_competencies(db) -> None:
    ref = referential_for(db, certification(db, "RNCP39668"))
    bc02 = next(b for b in ref.blocks if b.code == "RNCP39668BC02")
    assert len(bc02.items) == 4 + 3
    transversal_ids = [i.competency.id for i in bc02.items if i.transversal]
    progress = compute_progress(
        apprenticeship_id=1,
        referential=ref,
        semester_count=6,
        reviews=[],
        signature_counts={},
        agreed=[AgreedLevel(cid, 1, 3, False) for cid in transversal_ids],
        evidence_counts={transversal_ids[0]: 2},
        english_levels=[],
        mobility_weeks=0,
        today=TODAY,
        overdue_days=30,
    )
    block = next(b for b in progress.blocks if b.code == "RNCP39668BC02")
    assert (block.acquired_count, block.total, block.acquired_percent) == (3, 7, 43)
    bc05 = next(b for b in progress.blocks if b.code == "RNCP39668BC05")
    assert bc05.acquired_count == 3  # the same CT ratings count in every linked block
    assert block.competencies[4].evidence_count == 2


def _add_bulk(db: Session, p: Personas, situations: int) -> None:
    ref = referential_for(db, certification(db))
    comps = {c.id: c for c in ref.competencies}
    from app.models import Competency

    loaded = [db.get(Competency, cid) for cid in list(comps)[:3]]
    for i in range(situations):
        ws = WorkSituation(
            apprenticeship_id=p.apprenticeship_a.id,
            title=f"Situation {i}",
            starts_on=date(2025, 10, 1),
            ends_on=date(2025, 10, 2),
            status=SituationStatus.SUBMITTED,
        )
        ws.competencies = loaded
        db.add(ws)
    db.add_all(
        [
            EnglishResult(
                apprenticeship_id=p.apprenticeship_a.id,
                test_name="TOEIC",
                score=str(600 + i),
                cefr_level="B1",
                taken_on=date(2026, 1, 1),
            )
            for i in range(situations // 5)
        ]
    )
    db.flush()


def test_progress_and_review_detail_run_a_fixed_number_of_queries(
    client, db, connection, settings, personas
) -> None:
    p = personas
    headers = bearer(db, p.supervisor_a)
    base = f"/api/v1/apprenticeships/{p.apprenticeship_a.id}"
    client.get(f"{base}/progress", headers=headers)  # warm the referential cache

    def counts() -> tuple[int, int, int]:
        """Progress with an empty cache, progress warm, and the review detail."""
        progress_cache.clear_cache()
        with count_queries(connection) as cold:
            assert client.get(f"{base}/progress", headers=headers).status_code == 200
        with count_queries(connection) as warm:
            assert client.get(f"{base}/progress", headers=headers).status_code == 200
        with count_queries(connection) as review_q:
            assert client.get(f"{base}/reviews/1", headers=headers).status_code == 200
        return cold.count, warm.count, review_q.count

    _lock_semester(db, settings, p, 1, {})
    small = counts()
    _lock_semester(db, settings, p, 2, {})
    _add_bulk(db, p, 40)
    db.flush()
    large = counts()
    assert small == large, (small, large)
    print(f"queries per request: progress={large[0]} (warm {large[1]}) review={large[2]}")
    assert max(large) <= 8, large


def test_review_rows_exist_for_every_semester(db, personas) -> None:
    from sqlalchemy import func, select

    n = db.scalar(
        select(func.count(SemesterReview.id)).where(
            SemesterReview.apprenticeship_id == personas.apprenticeship_a.id
        )
    )
    assert n == personas.apprenticeship_a.semester_count
