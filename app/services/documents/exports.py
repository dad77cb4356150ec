"""Cohort CSV exports for spreadsheets: progress per apprentice, and every assessment.

Both start from the dashboard (:func:`app.services.pages.dashboard.build`) with the same filters, so
they hold exactly the apprentices the dashboard shows, scoped in SQL to what the viewer may see,
and the progress figures are the dashboard's own. Files are UTF-8 with a BOM (spreadsheets
then read accents right), comma- or semicolon-separated, headers in the viewer's language.
Free text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``…) is prefixed
with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import N_, translate
from app.models import CompetencyRating, RatingSource, SemesterReview
from app.services.pages.dashboard import Dashboard
from app.services.reviews import rules as review_rules
from app.services.reviews.rules import ReviewState

CSV_HEADER = (
    (N_("Apprentice"), N_("Email"), N_("Company")),
    (
        N_("Last review"),
        N_("Overdue"),
        N_("Divergences"),
        N_("English"),
        N_("Mobility weeks"),
        N_("Ready for the degree"),
    ),
)
CSV_YES, CSV_NO = N_("yes"), N_("no")
LAST_REMINDER, TUTOR = N_("Last reminder"), N_("Tutor")
CSV_SEMESTER = N_("Semester %(n)s")


PARTY_ORDER = (
    RatingSource.APPRENTICE,
    RatingSource.TUTOR,
    RatingSource.SUPERVISOR,
    RatingSource.AGREED,
)
PARTY_LABELS = {
    RatingSource.APPRENTICE: N_("apprentice"),
    RatingSource.TUTOR: N_("tutor"),
    RatingSource.SUPERVISOR: N_("supervisor"),
    RatingSource.AGREED: N_("agreed"),
}
PROGRESS_HEADER = (
    N_("Apprentice"),
    N_("Email"),
    N_("Company"),
    # … one "<block code> %" column per block …
    N_("Blocks acquired"),
    N_("Best English level"),
    N_("Mobility weeks"),
    N_("Company periods validated"),
    N_("Ready for the degree"),
)
ASSESSMENTS_HEADER = (
    N_("Apprentice"),
    N_("Email"),
    N_("Company"),
    N_("Semester"),
    N_("Review state"),
    N_("Block"),
    N_("Competency"),
    N_("Party"),
    N_("Level"),
    N_("Not observed"),
    N_("Comment"),
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Neutralise spreadsheet formulas in free text (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _writer(separator: str) -> tuple[io.StringIO, Any]:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    return buffer, csv.writer(buffer, delimiter=separator, lineterminator="\r\n")


def dashboard_csv(dashboard: Dashboard, locale: str, *, separator: str = ",") -> str:
    """Exactly the rows and columns the dashboard shows, UTF-8 with BOM for spreadsheets."""

    def t(message: str, **params: Any) -> str:
        return translate(locale, message, **params)

    buffer, writer = _writer(separator)
    head, tail = CSV_HEADER
    writer.writerow(
        [
            *map(t, head),
            *[f"{code} %" for code in dashboard.block_codes],
            *map(t, tail),
            f"{t(LAST_REMINDER)} ({t(head[0])})",
            f"{t(LAST_REMINDER)} ({t(TUTOR)})",
        ]
    )
    yes, no = t(CSV_YES), t(CSV_NO)
    for row in dashboard.rows:
        last = row.last_review
        writer.writerow(
            [
                safe_text(row.apprenticeship.apprentice.full_name),
                row.apprenticeship.apprentice.email,
                safe_text(row.apprenticeship.company.name),
                *[b.acquired_percent for b in row.progress.blocks],
                f"{t(CSV_SEMESTER) % {'n': last.semester}} {t(last.state.label)}" if last else "",
                yes if row.overdue else no,
                row.divergences,
                row.english or "",
                row.mobility_weeks,
                yes if row.progress.readiness.ready else no,
                *[
                    at.date().isoformat() if at else ""
                    for at in (row.apprentice_reminded_at, row.tutor_reminded_at)
                ],
            ]
        )
    return buffer.getvalue()


def cohort_progress_csv(dashboard: Dashboard, locale: str, *, separator: str = ",") -> str:
    """One row per apprentice shown on the dashboard: block percentages and readiness."""

    def t(message: str) -> str:
        return translate(locale, message)

    buffer, writer = _writer(separator)
    head, tail = PROGRESS_HEADER[:3], PROGRESS_HEADER[3:]
    writer.writerow(
        [*map(t, head), *[f"{code} %" for code in dashboard.block_codes], *map(t, tail)]
    )
    yes, no = t(CSV_YES), t(CSV_NO)
    for row in dashboard.rows:
        appr, readiness = row.apprenticeship, row.progress.readiness
        writer.writerow(
            [
                safe_text(appr.apprentice.full_name),
                appr.apprentice.email,
                safe_text(appr.company.name),
                *[b.acquired_percent for b in row.progress.blocks],
                readiness.blocks_acquired,
                readiness.english_best or "",
                readiness.mobility_weeks,
                readiness.periods_validated,
                yes if readiness.ready else no,
            ]
        )
    return buffer.getvalue()


def _ratings_by_review(
    session: Session, review_ids: list[int]
) -> dict[int, dict[tuple[int, RatingSource], CompetencyRating]]:
    found: dict[int, dict[tuple[int, RatingSource], CompetencyRating]] = defaultdict(dict)
    if review_ids:
        for rating in session.scalars(
            select(CompetencyRating).where(CompetencyRating.review_id.in_(review_ids))
        ):
            found[rating.review_id][(rating.competency_id, rating.source)] = rating
    return found


def assessments_csv(
    session: Session,
    dashboard: Dashboard,
    locale: str,
    today: date,
    *,
    separator: str = ",",
) -> str:
    """One row per apprentice × semester × competency × party (apprentice, tutor, supervisor,
    agreed), for every review that has started or already holds a rating; two queries."""

    def t(message: str) -> str:
        return translate(locale, message)

    buffer, writer = _writer(separator)
    writer.writerow([t(h) for h in ASSESSMENTS_HEADER])
    if not dashboard.rows or dashboard.referential is None:
        return buffer.getvalue()
    by_id = {row.apprenticeship.id: row.apprenticeship for row in dashboard.rows}
    reviews = session.scalars(
        select(SemesterReview).where(SemesterReview.apprenticeship_id.in_(list(by_id)))
    ).all()
    ratings = _ratings_by_review(session, [r.id for r in reviews])
    per_appr: dict[int, list[SemesterReview]] = defaultdict(list)
    for review in reviews:
        state = review_rules.review_state(review, today)
        if state is not ReviewState.UPCOMING or ratings.get(review.id):
            per_appr[review.apprenticeship_id].append(review)

    ref = dashboard.referential
    block_code = {b.id: b.code for b in ref.blocks}
    competencies = [(c, block_code.get(c.block_id or 0, "")) for c in ref.competencies]
    labels = {source: t(label) for source, label in PARTY_LABELS.items()}
    yes, no = t(CSV_YES), t(CSV_NO)
    for row in dashboard.rows:
        appr = row.apprenticeship
        person = (
            safe_text(appr.apprentice.full_name),
            appr.apprentice.email,
            safe_text(appr.company.name),
        )
        for review in sorted(per_appr[appr.id], key=lambda r: r.semester):
            state_label = t(review_rules.review_state(review, today).label)
            found = ratings.get(review.id, {})
            for competency, block in competencies:
                for source in PARTY_ORDER:
                    rating = found.get((competency.id, source))
                    writer.writerow(
                        [
                            *person,
                            review.semester,
                            state_label,
                            block,
                            competency.code,
                            labels[source],
                            "" if rating is None or rating.level is None else rating.level,
                            "" if rating is None else (yes if rating.not_observed else no),
                            safe_text(rating.comment) if rating is not None else "",
                        ]
                    )
    return buffer.getvalue()


def export_filename(kind: str, dashboard: Dashboard, today: date) -> str:
    cohort = dashboard.cohort.id if dashboard.cohort else "none"
    return f"livret-{kind}-cohort{cohort}-{today.isoformat()}.csv"


__all__ = ["assessments_csv", "cohort_progress_csv", "export_filename", "safe_text"]
