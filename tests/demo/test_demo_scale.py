"""The demo school at scale: its shape, and that its signed reviews verify as intact."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.demo.school import ADMIN_EMAIL, intake_years, seed_demo
from app.models import (
    Apprenticeship,
    AuditEvent,
    Cohort,
    Competency,
    CompetencyRating,
    EnglishResult,
    MobilityPeriod,
    Organisation,
    OrganisationKind,
    RatingSource,
    SemesterReview,
    SituationStatus,
    User,
    WorkSituation,
    situation_competencies,
)
from app.services.progress.loader import load_progress
from app.services.reviews import detail as review_detail
from app.services.reviews import rules as review_rules

TODAY = date(2026, 11, 21)  # the data is built relative to this day, whatever the clock says
COHORT_NAME = re.compile(r"^RNCP\d{5} — promotion (\d{4})-(\d{4})( \(groupe \d+\))?$")


def test_demo_school_at_scale(db: Session, settings: Settings) -> None:
    """One seeding (about a second), checked from every side."""
    report = seed_demo(db, apprentices=60, cohort_size=8, today=TODAY)
    assert report.created and report.counts["apprentices"] == 60
    _check_cohorts_span_both_certifications_and_three_intakes(db)
    _check_tutors_supervisors_and_people_are_distinct(db)
    _check_journal_uses_competencies_of_the_apprentices_certification(db)
    _check_signed_reviews_verify_intact_and_some_are_overdue(db, settings)
    _check_levels_drift_upward_with_divergences(db)
    _check_progress_english_and_mobility(db, settings)
    _check_seeding_is_idempotent_and_audited_once(db)


def _admin(db: Session) -> User:
    return db.scalars(select(User).where(User.email == ADMIN_EMAIL)).one()


def _check_cohorts_span_both_certifications_and_three_intakes(school: Session) -> None:
    cohorts = school.execute(
        select(Cohort.name, Cohort.intake_year, Cohort.certification_id, func.count())
        .join(Apprenticeship, Apprenticeship.cohort_id == Cohort.id)
        .group_by(Cohort.id, Cohort.name, Cohort.intake_year, Cohort.certification_id)
    ).all()
    assert len(cohorts) == 8  # 60 apprentices in cohorts of about 8
    assert len({c.certification_id for c in cohorts}) == 2
    assert {c.intake_year for c in cohorts} == set(intake_years(TODAY)) == {2023, 2024, 2025}
    for name, year, _cert, members in cohorts:
        match = COHORT_NAME.match(name)
        assert match and int(match[1]) == year and int(match[2]) == year + 3, name
        assert members in (7, 8)
    assert sum(1 for c in cohorts if c.name.endswith("(groupe 2)")) == 2  # 2025 has two groups
    companies = school.scalar(
        select(func.count(Organisation.id)).where(Organisation.kind == OrganisationKind.COMPANY)
    )
    assert companies == 8  # about one company per eight apprentices


def _check_tutors_supervisors_and_people_are_distinct(school: Session) -> None:
    rows = school.execute(
        select(
            Apprenticeship.apprentice_id,
            Apprenticeship.tutor_id,
            Apprenticeship.supervisor_id,
            Apprenticeship.company_id,
            Apprenticeship.cohort_id,
        )
    ).all()
    per_tutor = Counter(r.tutor_id for r in rows)
    assert set(per_tutor.values()) <= {1, 2, 3} and max(per_tutor.values()) > 1
    for tutor in per_tutor:  # a tutor works at one company
        assert len({r.company_id for r in rows if r.tutor_id == tutor}) == 1
    for supervisor in {r.supervisor_id for r in rows}:  # a supervisor belongs to one cohort
        assert len({r.cohort_id for r in rows if r.supervisor_id == supervisor}) == 1
    apprentices = {r.apprentice_id for r in rows}
    assert len(apprentices) == 60
    assert not apprentices & (set(per_tutor) | {r.supervisor_id for r in rows})
    emails = school.scalars(select(User.email)).all()
    assert len(emails) == len(set(emails))


def _check_journal_uses_competencies_of_the_apprentices_certification(school: Session) -> None:
    situations = school.scalar(select(func.count(WorkSituation.id))) or 0
    assert 60 * 3 * 5 < situations < 60 * 6 * 11
    mismatched = school.scalar(
        select(func.count())
        .select_from(situation_competencies)
        .join(WorkSituation, WorkSituation.id == situation_competencies.c.work_situation_id)
        .join(Apprenticeship, Apprenticeship.id == WorkSituation.apprenticeship_id)
        .join(Cohort, Cohort.id == Apprenticeship.cohort_id)
        .join(Competency, Competency.id == situation_competencies.c.competency_id)
        .where(Competency.certification_id != Cohort.certification_id)
    )
    assert mismatched == 0
    per_situation = Counter(
        school.scalars(select(situation_competencies.c.work_situation_id)).all()
    )
    assert len(per_situation) == situations and set(per_situation.values()) <= {1, 2, 3}
    statuses = Counter(school.scalars(select(WorkSituation.status)).all())
    assert statuses[SituationStatus.ACKNOWLEDGED] > statuses[SituationStatus.SUBMITTED] > 0
    assert statuses[SituationStatus.DRAFT] > 0
    # Drafts only in the current semester; nothing ends in the future.
    drafts = school.execute(
        select(WorkSituation.starts_on, Apprenticeship.starts_on)
        .join(Apprenticeship, Apprenticeship.id == WorkSituation.apprenticeship_id)
        .where(WorkSituation.status == SituationStatus.DRAFT)
    ).all()
    assert all(
        started.year in (2024, 2025) and written >= date(2026, 9, 1) for written, started in drafts
    )
    assert school.scalar(select(func.max(WorkSituation.ends_on))) < TODAY
    example = school.scalars(select(WorkSituation).limit(1)).one()
    assert example.title and example.context and example.actions and example.learnings


def _check_signed_reviews_verify_intact_and_some_are_overdue(
    school: Session, settings: Settings
) -> None:
    admin = _admin(school)
    reviews = school.scalars(select(SemesterReview).order_by(SemesterReview.id)).all()
    locked = [r for r in reviews if r.is_locked]
    assert len(locked) > 60
    assert all(r.ends_on < TODAY for r in locked)
    for review in locked[::4]:
        detail = review_detail.load_detail(school, admin, review.apprenticeship_id, review.semester)
        assert len(detail.active_signatures) == 3 and detail.agreed_complete
        assert set(detail.assessments) == {
            RatingSource.APPRENTICE,
            RatingSource.TUTOR,
            RatingSource.SUPERVISOR,
        }
        verification = detail.verification()
        assert verification.intact
        assert [c.status for c in verification.checks] == ["intact"] * 3
    overdue = [
        r for r in reviews if review_rules.is_overdue(r, TODAY, settings.review_overdue_days)
    ]
    assert overdue and all(not r.is_locked for r in overdue)
    partly_signed = [
        review_detail.load_detail(school, admin, r.apprenticeship_id, r.semester) for r in overdue
    ]
    for detail in partly_signed:  # signatures on a pending review match its content too
        assert detail.verification().intact


def _check_levels_drift_upward_with_divergences(school: Session) -> None:
    rows = school.execute(
        select(SemesterReview.semester, CompetencyRating.level)
        .join(SemesterReview, SemesterReview.id == CompetencyRating.review_id)
        .where(
            CompetencyRating.source == RatingSource.AGREED,
            SemesterReview.locked_at.is_not(None),
            CompetencyRating.level.is_not(None),
        )
    ).all()
    by_semester: dict[int, list[int]] = {}
    for semester, level in rows:
        by_semester.setdefault(semester, []).append(level)
    means = [sum(v) / len(v) for _s, v in sorted(by_semester.items())]
    assert len(means) == 6 and means == sorted(means) and means[-1] - means[0] > 1.5
    not_observed = school.scalar(
        select(func.count(CompetencyRating.id)).where(CompetencyRating.not_observed)
    )
    assert not_observed and not_observed > 0
    divergent = 0
    admin = _admin(school)
    for review in school.scalars(
        select(SemesterReview).where(SemesterReview.locked_at.is_not(None)).limit(40)
    ):
        detail = review_detail.load_detail(school, admin, review.apprenticeship_id, review.semester)
        divergent += len(detail.divergences)
    assert divergent > 0


def _check_progress_english_and_mobility(school: Session, settings: Settings) -> None:
    admin = _admin(school)
    oldest = school.scalars(
        select(Apprenticeship)
        .where(Apprenticeship.starts_on == date(2023, 9, 1))
        .order_by(Apprenticeship.id)
    ).first()
    assert oldest is not None
    _appr, progress = load_progress(school, settings, admin, oldest.id, today=TODAY)
    assert progress.blocks and any(c.level for b in progress.blocks for c in b.competencies)
    assert progress.readiness.periods_validated >= 4
    assert any(c.evidence_count for b in progress.blocks for c in b.competencies)
    levels = Counter(school.scalars(select(EnglishResult.cefr_level)).all())
    assert levels["B2"] + levels["C1"] + levels["C2"] > levels["B1"]
    periods = school.scalars(select(MobilityPeriod)).all()
    assert periods and all(0 < p.weeks <= 16 and p.ends_on < TODAY for p in periods)


def _check_seeding_is_idempotent_and_audited_once(school: Session) -> None:
    users = school.scalar(select(func.count(User.id)))
    again = seed_demo(school, apprentices=60, cohort_size=8, today=TODAY)
    assert not again.created and again.logins[0] == ("admin", ADMIN_EMAIL)
    assert school.scalar(select(func.count(User.id))) == users
    events = school.scalars(select(AuditEvent).where(AuditEvent.action == "demo.seed")).all()
    assert len(events) == 1


def test_small_demo_keeps_its_shape_and_gains_a_portfolio(db: Session) -> None:
    report = seed_demo(db, today=TODAY)
    assert report.created
    assert db.scalar(select(func.count(Apprenticeship.id))) == 12
    names = db.scalars(select(Cohort.name).order_by(Cohort.name)).all()
    assert names == ["RNCP39303 — promotion 2025-2028", "RNCP39668 — promotion 2025-2028"]
    assert report.counts["companies"] == 4
    assert report.counts["work situations"] > 12 * 2 * 5
    assert report.counts["signed reviews"] > 12
