"""The supervisor dashboard: scoping, filters, sorting, htmx partials, CSV, query counts."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from app.services.pages import dashboard as dashboard_service
from tests.factories import make_apprenticeship, make_mobility_period, make_user
from tests.helpers import Personas, login_as
from tests.querycount import count_queries


def _cohort_id(p: Personas) -> int:
    return p.apprenticeship_a.cohort_id


def test_supervisor_sees_only_their_apprentices(client, db, settings, personas) -> None:
    login_as(client, db, settings, personas.supervisor_a)
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert response.headers["Vary"] == "HX-Request"
    assert personas.apprentice_a.full_name in response.text
    assert personas.apprentice_b.full_name not in response.text  # same cohort, not theirs
    assert "<html" in response.text


def test_htmx_request_gets_the_results_fragment_and_direct_load_the_page(
    client, db, settings, personas
) -> None:
    login_as(client, db, settings, personas.admin)
    url = f"/dashboard?cohort={_cohort_id(personas)}&sort=name&dir=desc"
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="dashboard-results">')
    assert fragment.headers["Vary"] == "HX-Request"
    restore = client.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text
    full = client.get(url)
    assert "<html" in full.text and 'aria-sort="descending"' in full.text
    names = [personas.apprentice_b.full_name, personas.apprentice_a.full_name]
    text = full.text
    assert text.index(names[0]) < text.index(names[1])  # Bruno before Alice, descending


def test_every_column_header_sorts_and_the_active_one_toggles(
    client, db, settings, personas
) -> None:
    login_as(client, db, settings, personas.admin)
    cohort = _cohort_id(personas)
    text = client.get(f"/dashboard?cohort={cohort}&sort=block1&dir=asc").text
    head = text[text.index("<thead>") : text.index("</thead>")]
    keys = ["name", "company", "block0", "block1", "block2", "block3"]
    keys += ["review", "overdue", "divergences", "english", "mobility"]
    for key in keys:
        direction = "desc" if key == "block1" else "asc"  # the active column flips
        href = f"/dashboard?cohort={cohort}&amp;status=all&amp;sort={key}&amp;dir={direction}"
        assert f'<a href="{href}" hx-get="{href}"' in head, key
    assert head.count("aria-sort=") == 1 and 'aria-sort="ascending"' in head
    assert ">BC02 ▲</a>" in head and head.count('<th scope="col"') == len(keys) + 1


def test_name_filter_and_status_filter(client, db, settings, personas) -> None:
    login_as(client, db, settings, personas.admin)
    base = f"/dashboard?cohort={_cohort_id(personas)}"
    text = client.get(f"{base}&q=bruno").text
    assert personas.apprentice_b.full_name in text and personas.apprentice_a.full_name not in text
    text = client.get(f"{base}&status=ready").text
    assert "Aucun·e apprenti·e ne correspond" in text
    assert client.get(f"{base}&status=nonsense&sort=evil").status_code == 200  # cleaned
    assert client.get("/dashboard?cohort=abc").status_code == 422


def test_csv_export_matches_what_is_shown(client, db, settings, personas) -> None:
    login_as(client, db, settings, personas.admin)
    query = f"cohort={_cohort_id(personas)}&q=alice"
    response = client.get(f"/dashboard.csv?{query}&sep=semicolon")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Apprenti·e", "Adresse e-mail", "Entreprise"]
    assert rows[0][3] == "RNCP39303BC01 %"
    assert len(rows) == 2 and rows[1][0] == personas.apprentice_a.full_name
    board = dashboard_service.build(
        db,
        settings,
        personas.admin,
        dashboard_service.Filters(_cohort_id(personas), q="alice"),
        date.today(),
    )
    assert [int(v) for v in rows[1][3:7]] == [
        b.acquired_percent for b in board.rows[0].progress.blocks
    ]


@pytest.mark.parametrize("who", ["tutor_b", "outsider", "apprentice_b"])
def test_others_do_not_see_apprentice_a(client, db, settings, personas, who) -> None:
    login_as(client, db, settings, getattr(personas, who))
    text = client.get("/dashboard").text + client.get("/dashboard.csv").text
    assert personas.apprentice_a.full_name not in text


ROW_TEXTS = {
    # locale: (weeks pattern, locked, pending, overdue, not overdue, apprentice, tutor)
    "fr": (
        "{} sem.",
        "signée et verrouillée",
        "en attente",
        "en retard",
        "non",
        "Apprenti·e",
        "Tuteur·rice",
    ),
    "en": ("{} wk", "signed and locked", "pending", "overdue", "no", "Apprentice", "Tutor"),
}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_row_cells_speak_the_viewers_language(client, db, settings, personas, locale) -> None:
    """Every cell of a row, as the service computed it, in the viewer's language."""
    appr = personas.apprenticeship_a
    make_mobility_period(db, appr.id)  # 12 weeks
    personas.admin.locale = locale
    db.flush()
    login_as(client, db, settings, personas.admin)
    page = client.get(f"/dashboard?cohort={appr.cohort_id}&q=alice").text
    [row] = dashboard_service.build(
        db,
        settings,
        personas.admin,
        dashboard_service.Filters(appr.cohort_id, q="alice"),
        date.today(),
    ).rows
    start = page.index(f'<th scope="row"><a href="/apprenticeships/{appr.id}">')
    cells = page[start : page.index("</tr>", start)]
    weeks, locked, pending, overdue, not_overdue, apprentice, tutor = ROW_TEXTS[locale]
    assert f"<td>{weeks.format(12)}</td>" in cells
    assert row.last_review is not None  # the apprenticeship began in the past
    state = locked if row.last_review.state == "locked" else pending
    assert f">S{row.last_review.semester}</a>" in cells and f">{state}</span>" in cells
    assert f">{overdue}</span>" in cells if row.overdue else f">{not_overdue}</span>" in cells
    assert f"<small>{apprentice} —</small>" in cells and f"<small>{tutor} —</small>" in cells
    for block in row.progress.blocks:
        assert f">{block.acquired_percent} %</td>" in cells
    assert cells.count('<td class="cell cell-') == len(row.progress.blocks)


def test_query_count_does_not_grow_with_the_cohort(client, db, connection, settings, personas):
    supervisor = make_user(db, name="Grande Promo")
    cohort = personas.apprenticeship_a.cohort
    for _ in range(12):
        make_apprenticeship(db, supervisor=supervisor, cohort=cohort)
    login_as(client, db, settings, supervisor)
    url = f"/dashboard?cohort={cohort.id}"
    client.get(url)  # warm the referential cache
    with count_queries(connection) as small:
        assert client.get(url).status_code == 200
    for _ in range(188):
        make_apprenticeship(db, supervisor=supervisor, cohort=cohort)
    with count_queries(connection) as large:
        response = client.get(url)
    assert response.text.count('<th scope="row">') == 200
    print(f"dashboard queries: 12 -> {small.count}, 200 -> {large.count}")
    assert small.count == large.count


def test_dashboard_csv_neutralises_spreadsheet_formulas(client, db, settings, personas) -> None:
    personas.apprentice_a.full_name = '=HYPERLINK("http://evil.example")'
    db.flush()
    login_as(client, db, settings, personas.admin)
    response = client.get(f"/dashboard.csv?cohort={_cohort_id(personas)}")
    names = [row[0] for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))]
    assert '\'=HYPERLINK("http://evil.example")' in names


def test_the_navigation_shows_the_dashboard_to_supervisors_and_admins_only(
    client, db, settings, personas
) -> None:
    link = '<a href="/dashboard">'
    for who, shown in (
        (personas.supervisor_a, True),
        (personas.admin, True),
        (personas.tutor_a, False),
        (personas.apprentice_a, False),
    ):
        client.cookies.clear()
        login_as(client, db, settings, who)
        page = client.get("/referentials")
        assert page.status_code == 200
        assert (link in page.text) is shown, who.full_name
