"""Cohort CSV exports: encoding, separators, dashboard figures, scoping, one row per rating."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import translate
from app.models import CompetencyRating, Party, RatingSource, SemesterReview
from app.services.documents import exports as export_service
from app.services.pages import dashboard as dashboard_service
from app.services.referentials.views import referential_for
from app.services.reviews import workflow as review_service
from app.services.reviews.workflow import RatingInput
from tests.factories import PASSWORD, certification, make_apprenticeship
from tests.helpers import Personas, login_as
from tests.querycount import count_queries

PARTIES = ("apprentice", "tutor", "supervisor", "agreed")


def _lock_semester_1(db: Session, settings: Settings, p: Personas) -> None:
    appr_id = p.apprenticeship_a.id
    ref = referential_for(db, certification(db))
    detail = review_service.load_detail(db, p.tutor_a, appr_id, 1)
    items = [RatingInput(c.id, 3) for c in ref.competencies]
    items[0] = RatingInput(ref.competencies[0].id, None, not_observed=True, comment="=1+1")
    review_service.save_agreed(
        db, p.tutor_a, appr_id, 1, version=detail.review.version, ratings=items
    )
    review_service.save_assessment(
        db,
        p.apprentice_a,
        appr_id,
        1,
        Party.APPRENTICE,
        version=0,
        ratings=[RatingInput(ref.competencies[1].id, 2, comment="Mon avis")],
    )
    for user, role in (
        (p.apprentice_a, Party.APPRENTICE),
        (p.tutor_a, Party.TUTOR),
        (p.supervisor_a, Party.SUPERVISOR),
    ):
        review_service.sign(db, settings, user, appr_id, 1, role, password=PASSWORD)


def _rows(content: bytes, delimiter: str = ",") -> list[list[str]]:
    assert content.startswith("\ufeff".encode())  # BOM, for spreadsheets
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=delimiter))


def _cohort(p: Personas) -> int:
    return p.apprenticeship_a.cohort_id


# --- Cohort progress ------------------------------------------------------------------------


def test_progress_export_matches_the_dashboard(client, db, settings, personas) -> None:
    _lock_semester_1(db, settings, personas)
    login_as(client, db, settings, personas.admin)
    response = client.get(f"/exports/cohort-progress.csv?cohort={_cohort(personas)}&sort=name")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith(
        f'attachment; filename="livret-progress-cohort{_cohort(personas)}-'
    )
    rows = _rows(response.content)
    board = dashboard_service.build(
        db,
        settings,
        personas.admin,
        dashboard_service.Filters(_cohort(personas), sort="name"),
        date.today(),
    )
    header = rows[0]
    assert header[:3] == ["Apprenti·e", "Adresse e-mail", "Entreprise"]
    assert header[3 : 3 + len(board.block_codes)] == [f"{c} %" for c in board.block_codes]
    assert header[-1] == "Prêt·e pour le diplôme"
    assert len(rows) == 1 + len(board.rows)
    n = len(board.block_codes)
    for line, row in zip(rows[1:], board.rows, strict=True):
        readiness = row.progress.readiness
        assert line[0] == row.apprenticeship.apprentice.full_name
        assert [int(v) for v in line[3 : 3 + n]] == [
            b.acquired_percent for b in row.progress.blocks
        ]
        assert line[3 + n :] == [
            str(readiness.blocks_acquired),
            readiness.english_best or "",
            str(readiness.mobility_weeks),
            str(readiness.periods_validated),
            "oui" if readiness.ready else "non",
        ]
    alice = next(line for line in rows[1:] if line[0] == personas.apprentice_a.full_name)
    assert int(alice[3 + 1]) == 100  # BC02 fully acquired at level 3
    assert alice[3 + n + 3] == "1"  # one period validated


def test_progress_export_semicolons_and_filters(client, db, settings, personas) -> None:
    login_as(client, db, settings, personas.admin)
    response = client.get(
        f"/exports/cohort-progress.csv?cohort={_cohort(personas)}&q=bruno&sep=semicolon"
    )
    rows = _rows(response.content, ";")
    assert len(rows[0]) > 5  # really split on semicolons
    assert [r[0] for r in rows[1:]] == [personas.apprentice_b.full_name]
    assert client.get("/exports/cohort-progress.csv?sep=tab").status_code == 422


def test_headers_follow_the_viewers_language(client, db, settings, personas) -> None:
    personas.admin.locale = "en"
    db.flush()
    login_as(client, db, settings, personas.admin)
    rows = _rows(client.get(f"/exports/cohort-progress.csv?cohort={_cohort(personas)}").content)
    assert rows[0][:3] == ["Apprentice", "Email", "Company"]
    assert rows[0][-1] == "Ready for the degree"
    assessments = _rows(client.get(f"/exports/assessments.csv?cohort={_cohort(personas)}").content)
    assert assessments[0][:4] == ["Apprentice", "Email", "Company", "Semester"]


@pytest.mark.parametrize("path", ["/exports/cohort-progress.csv", "/exports/assessments.csv"])
def test_supervisor_b_does_not_see_apprentice_a(client, db, settings, personas, path) -> None:
    _lock_semester_1(db, settings, personas)
    login_as(client, db, settings, personas.supervisor_b)
    response = client.get(f"{path}?cohort={_cohort(personas)}")
    assert response.status_code == 200
    names = {row[0] for row in _rows(response.content)[1:]}
    assert names == {personas.apprentice_b.full_name}
    assert personas.apprentice_a.email not in response.text


@pytest.mark.parametrize(
    ("who", "status"), [("supervisor_b", 200), ("outsider", 403), ("tutor_b", 403)]
)
def test_others_export_nothing_of_apprentice_a(client, db, settings, personas, who, status) -> None:
    """B's supervisor exports B's rows only; people who follow no cohort get 403."""
    login_as(client, db, settings, getattr(personas, who))
    for path in ("/exports/cohort-progress.csv", "/exports/assessments.csv"):
        response = client.get(f"{path}?cohort={_cohort(personas)}")
        assert response.status_code == status
        assert personas.apprentice_a.full_name not in response.content.decode("utf-8-sig")


def test_anonymous_is_sent_to_login(client) -> None:
    response = client.get("/exports/assessments.csv")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_dashboard_links_to_both_exports(client, db, settings, personas) -> None:
    login_as(client, db, settings, personas.supervisor_a)
    text = client.get(f"/dashboard?cohort={_cohort(personas)}").text
    assert f"/exports/cohort-progress.csv?cohort={_cohort(personas)}" in text
    assert f"/exports/assessments.csv?cohort={_cohort(personas)}" in text
    assert "sep=semicolon" in text  # French spreadsheets expect semicolons


# --- All assessments ------------------------------------------------------------------------


def test_assessments_export_has_one_row_per_rating_slot(client, db, settings, personas) -> None:
    _lock_semester_1(db, settings, personas)
    login_as(client, db, settings, personas.supervisor_a)
    response = client.get(f"/exports/assessments.csv?cohort={_cohort(personas)}&sep=semicolon")
    assert response.status_code == 200
    rows = _rows(response.content, ";")
    header = rows[0]
    assert len(header) == 11 and header[0] == "Apprenti·e"
    body = rows[1:]
    ref = referential_for(db, certification(db))
    today = date.today()
    reviews = db.scalars(
        select(SemesterReview).where(
            SemesterReview.apprenticeship_id == personas.apprenticeship_a.id
        )
    ).all()
    expected_semesters = {r.semester for r in reviews if r.starts_on <= today} | {1}
    assert len(body) == len(expected_semesters) * len(ref.competencies) * len(PARTIES)
    keys = {(r[0], r[3], r[6], r[7]) for r in body}
    assert len(keys) == len(body)  # apprentice × semester × competency × party, once each
    assert {r[3] for r in body} == {str(s) for s in expected_semesters}
    labels = {p: translate("fr", export_service.PARTY_LABELS[RatingSource(p)]) for p in PARTIES}
    assert {r[7] for r in body} == set(labels.values())

    by_key = {(r[3], r[6], r[7]): r for r in body}
    first, second = ref.competencies[0].code, ref.competencies[1].code
    agreed_first = by_key[("1", first, labels["agreed"])]
    assert agreed_first[4] == "signée et verrouillée"
    assert agreed_first[8:] == ["", "oui", "'=1+1"]  # not observed; formula neutralised
    assert by_key[("1", second, labels["agreed"])][8:] == ["3", "non", ""]
    assert by_key[("1", second, labels["apprentice"])][8:] == ["2", "non", "Mon avis"]
    assert by_key[("1", second, labels["tutor"])][8:] == ["", "", ""]  # not rated
    assert by_key[("1", second, labels["agreed"])][5] == ref.blocks[0].code

    agreed_in_db = db.scalars(
        select(CompetencyRating)
        .join(SemesterReview, SemesterReview.id == CompetencyRating.review_id)
        .where(
            SemesterReview.apprenticeship_id == personas.apprenticeship_a.id,
            CompetencyRating.source == RatingSource.AGREED,
        )
    ).all()
    code = ref.competency_by_id()
    for rating in agreed_in_db:
        line = by_key[("1", code[rating.competency_id].code, labels["agreed"])]
        assert line[8] == ("" if rating.level is None else str(rating.level))


def test_assessments_export_is_a_fixed_number_of_queries(
    client, db, connection: Connection, settings, personas
) -> None:
    cohort = personas.apprenticeship_a.cohort
    login_as(client, db, settings, personas.admin)
    url = f"/exports/assessments.csv?cohort={cohort.id}"
    client.get(url)  # warm the referential cache
    with count_queries(connection) as small:
        assert client.get(url).status_code == 200
    for _ in range(10):
        make_apprenticeship(db, cohort=cohort)
    _lock_semester_1(db, settings, personas)
    client.get(url)  # the new lock fills the latest-levels cache (one query when it misses)
    with count_queries(connection) as large:
        response = client.get(url)
    assert len({row[0] for row in _rows(response.content)[1:]}) == 12
    assert small.count == large.count


def test_safe_text_neutralises_formulas() -> None:
    assert export_service.safe_text("=HYPERLINK()") == "'=HYPERLINK()"
    assert export_service.safe_text("-2") == "'-2"
    assert export_service.safe_text("Très bien") == "Très bien"
