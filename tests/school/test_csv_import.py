"""CSV import of accounts and apprenticeships: dry run, per-line report, all or nothing."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Apprenticeship, AuditEvent, Cohort, Organisation, SemesterReview, User
from app.services.errors import Forbidden
from app.services.school import csv_import
from tests.factories import make_cohort, make_organisation, make_user
from tests.helpers import Personas, csrf_for, login_as

HEADER = (
    "apprentice_email,apprentice_name,tutor_email,tutor_name,supervisor_email,supervisor_name,"
    "company_name,company_siret,cohort_name,starts_on,ends_on,semester_count"
)


@pytest.fixture
def cohort(db: Session) -> Cohort:
    cohort = make_cohort(db)
    cohort.name = "FISA Import 2025"
    db.flush()
    return cohort


def _valid_rows(personas: Personas) -> list[str]:
    tutor = personas.tutor_a
    return [
        "nora.neuve@import.example,Nora Neuve,t.new@corp.example,Tom Nouveau,"
        f"{personas.supervisor_a.email},ignored name,Corp Import,12345678901234,"
        "FISA Import 2025,2025-09-01,2028-08-31,6",
        "oscar.neuf@import.example,Oscar Neuf,T.NEW@corp.example,Tom Nouveau,"
        f"{personas.supervisor_a.email},,corp  import,12345678901234,"
        "fisa import 2025,01/09/2025,31/08/2027,4",
        f"{personas.outsider.email},,{tutor.email.upper()},,{personas.supervisor_b.email},,"
        "Autre Société,,FISA Import 2025,2025-09-01,2028-08-31,",
    ]


def _row(
    a: str = "a@x.example",
    an: str = "A",
    t: str = "t@x.example",
    tn: str = "T",
    s: str = "s@x.example",
    sn: str = "S",
    company: str = "Corp",
    siret: str = "",
    cohort: str = "FISA Import 2025",
    starts: str = "2025-09-01",
    ends: str = "2028-08-31",
    count: str = "",
) -> str:
    """One line in HEADER's column order."""
    return ",".join([a, an, t, tn, s, sn, company, siret, cohort, starts, ends, count])


def _csv(*rows: str, header: str = HEADER, sep: str = ",") -> str:
    text = "\n".join([header, *rows]) + "\n"
    return text.replace(",", sep) if sep != "," else text


def _counts(db: Session) -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        db.scalar(select(func.count()).select_from(model)) or 0
        for model in (User, Apprenticeship, Organisation, SemesterReview)
    )


def _errors(plan: csv_import.ImportPlan) -> list[tuple[int | None, str, str]]:
    return [(e.line, e.column, e.message.format(**e.params)) for e in plan.errors]


@pytest.fixture
def admin(client: TestClient, db: Session, settings: Settings, personas: Personas) -> TestClient:
    personas.admin.locale = "en"
    db.flush()
    login_as(client, db, settings, personas.admin)
    client.get("/admin/import")
    return client


def _upload(client: TestClient, settings: Settings, content: bytes):
    return client.post(
        "/admin/import",
        data={"csrf_token": csrf_for(client, settings)},
        files={"file": ("promo.csv", content, "text/csv")},
    )


def _confirm(client: TestClient, settings: Settings, text: str):
    return client.post(
        "/admin/import/confirm",
        data={"csrf_token": csrf_for(client, settings)},
        files={"csv_text": (None, text)},  # multipart, like the browser form
    )


# --- Pages -----------------------------------------------------------------------------------


def test_dry_run_previews_and_writes_nothing(admin, db, settings, personas, cohort) -> None:
    before = _counts(db)
    response = _upload(admin, settings, _csv(*_valid_rows(personas)).encode())
    assert response.status_code == 200, response.text
    text = html.unescape(response.text)
    assert "Preview: nothing has been written yet" in text
    assert "Nora Neuve" in text and "Oscar Neuf" in text and "Corp Import" in text
    assert re.search(r"<strong>3</strong> apprenticeships to create", text)
    assert re.search(r"<strong>3</strong> new accounts", text)  # Nora, Oscar, Tom
    assert re.search(r"<strong>2</strong> new companies", text)
    assert 'name="csv_text"' in text and 'action="/admin/import/confirm"' in text
    assert _counts(db) == before


def test_confirm_writes_everything(admin, db, settings, personas, cohort) -> None:
    before = _counts(db)
    before_users, before_apprs, before_orgs, _ = before
    quoted = _row(
        "zoe@import.example",
        '"Zoé ""Z"" Ûrsule"',
        personas.tutor_b.email,
        s=personas.supervisor_b.email,
        company='"Dupont, Fils & Cie"',
    )
    preview = _upload(admin, settings, _csv(*_valid_rows(personas), quoted).encode())
    assert preview.status_code == 200, preview.text
    carried = re.search(r'name="csv_text" value="([^"]*)"', preview.text)
    assert carried is not None
    # The browser sends the hidden field back unescaped, with CRLF line breaks.
    text = html.unescape(carried.group(1)).replace("\n", "\r\n")
    assert _counts(db) == before  # the dry run wrote nothing
    response = _confirm(admin, settings, text)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin/import?created=4&users=4&companies=3&invited=0"
    users, apprs, orgs, _ = _counts(db)
    assert (users - before_users, apprs - before_apprs, orgs - before_orgs) == (4, 4, 3)
    zoe = db.scalars(select(User).where(User.email == "zoe@import.example")).one()
    assert zoe.full_name == 'Zoé "Z" Ûrsule'
    assert db.scalar(select(Organisation).where(Organisation.name == "Dupont, Fils & Cie"))
    nora = db.scalars(select(User).where(User.email == "nora.neuve@import.example")).one()
    assert nora.full_name == "Nora Neuve" and nora.password_hash is None and nora.is_active
    tom = db.scalars(select(User).where(User.email == "t.new@corp.example")).one()
    rows = db.scalars(select(Apprenticeship).where(Apprenticeship.cohort_id == cohort.id)).all()
    by_apprentice = {a.apprentice_id: a for a in rows}
    assert by_apprentice[nora.id].tutor_id == tom.id
    assert by_apprentice[nora.id].supervisor_id == personas.supervisor_a.id
    oscar = db.scalars(select(User).where(User.email == "oscar.neuf@import.example")).one()
    assert by_apprentice[oscar.id].company_id == by_apprentice[nora.id].company_id
    assert by_apprentice[oscar.id].semester_count == 4
    assert by_apprentice[oscar.id].ends_on == date(2027, 8, 31)
    assert by_apprentice[personas.outsider.id].tutor_id == personas.tutor_a.id
    company = db.get(Organisation, by_apprentice[nora.id].company_id)
    assert company is not None and company.siret == "12345678901234"
    reviews = db.scalar(
        select(func.count()).where(SemesterReview.apprenticeship_id == by_apprentice[nora.id].id)
    )
    assert reviews == 6
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "import.csv")).one()
    assert event.details["apprenticeships"] == 4 and event.ip == "testclient"
    done = admin.get(response.headers["location"])
    assert "Import complete: 4 apprenticeships, 4 new accounts and 3 new companies" in done.text


def test_one_bad_line_writes_nothing_and_names_the_line(
    admin, db, settings, personas, cohort
) -> None:
    rows = _valid_rows(personas)
    rows.insert(1, _row("bad-email", "Bad", "t2@corp.example", s="s2@corp.example", count="6"))
    text = _csv(*rows)
    before = _counts(db)
    response = _upload(admin, settings, text.encode())
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "Errors: nothing will be imported" in page
    assert re.search(
        r'<th scope="row">3</th>\s*<td><code>apprentice_email</code></td>\s*'
        r'<td>Invalid email address: "bad-email".</td>',
        page,
    )
    assert "Confirm the import" not in page
    response = _confirm(admin, settings, text)  # even a forced confirm writes nothing
    assert response.status_code == 422
    assert 'Invalid email address: "bad-email".' in html.unescape(response.text)
    assert _counts(db) == before


def test_semicolons_bom_and_crlf_are_accepted(admin, db, settings, personas, cohort) -> None:
    text = _csv(*_valid_rows(personas)[:1], sep=";").replace("\n", "\r\n")
    response = _upload(admin, settings, b"\xef\xbb\xbf" + text.encode())
    assert response.status_code == 200, response.text
    assert "Nora Neuve" in response.text


@pytest.mark.parametrize("who", ["apprentice_a", "tutor_a", "supervisor_a", "outsider"])
def test_non_admins_cannot_import(client, db, settings, personas, cohort, who) -> None:
    login_as(client, db, settings, getattr(personas, who))
    before = _counts(db)
    text = _csv(*_valid_rows(personas))
    assert _upload(client, settings, text.encode()).status_code == 403
    assert _confirm(client, settings, text).status_code == 403
    assert _counts(db) == before
    with pytest.raises(Forbidden):
        csv_import.validate_text(db, getattr(personas, who), text)


def test_import_without_csrf_token_is_refused(admin, db, personas, cohort) -> None:
    before = _counts(db)
    response = admin.post(
        "/admin/import/confirm", files={"csv_text": (None, _csv(*_valid_rows(personas)))}
    )
    assert response.status_code == 403
    assert _counts(db) == before


# --- The checks, per line --------------------------------------------------------------------


def test_every_line_error_is_reported_with_its_line(db, personas, cohort) -> None:
    inactive = make_user(db, is_active=False, email="gone@test.example")
    make_organisation(db, kind=csv_import.OrganisationKind.SCHOOL, name="Une École")
    rows = [
        _row("a1@x.example", "A 1", "t1@x.example", s="s1@x.example"),  # line 2: fine
        _row("a1@x.example", "A 1", "t9@x.example", s="s9@x.example"),
        _row("a3@x.example", t="t3@x.example", s="s3@x.example", cohort="Nope"),
        _row("a4@x.example", t="t4@x.example", s="s4@x.example", starts="2025-13-01"),
        _row("a5@x.example", t="t5@x.example", s="s5@x.example", starts="2028-09-01"),
        _row("a6@x.example", t="a6@x.example", s="s6@x.example"),
        _row("a7@x.example", t=inactive.email, tn="", s="s7@x.example"),
        _row("a8@x.example", "", "t8@x.example", s="s8@x.example"),
        _row("a9@x.example", t="t9@x.example", s="s9@x.example", company="Une école", count="13"),
        "too,few,fields",
        _row("a11@x.example", t="t1@x.example", tn="Other Name", s="s1@x.example", siret="123"),
    ]
    plan = csv_import.validate_text(db, personas.admin, _csv(*rows))
    assert not plan.ok and plan.rows == []
    errors = _errors(plan)
    expected = [
        (3, "apprentice_email", "This apprentice already appears on line 2."),
        (4, "cohort_name", "Unknown cohort."),
        (5, "starts_on", 'Invalid date "2025-13-01": use YYYY-MM-DD.'),
        (6, "ends_on", "The end date must be after the start date."),
        (7, "tutor_email", "The apprentice, the tutor and the supervisor must be three people."),
        (8, "tutor_email", "This account is deactivated."),
        (9, "apprentice_name", "A name is required to create this account."),
        (10, "company_name", "This name belongs to a school, not a company."),
        (10, "semester_count", "The number of semesters must be between 1 and 12."),
        (11, "", "This line has 3 fields; the header has 12."),
        (12, "company_siret", "A SIRET has 14 digits."),
    ]
    for item in expected:
        assert item in errors, item
    assert plan.error_count == len(errors)


def test_a_person_or_company_must_keep_one_name_and_siret(db, personas, cohort) -> None:
    rows = [
        _row("a1@x.example", tn="Tom", siret="11111111111111"),
        _row("a2@x.example", tn="Thomas", company="CORP", siret="22222222222222"),
    ]
    errors = _errors(csv_import.validate_text(db, personas.admin, _csv(*rows)))
    assert (3, "tutor_name", 'This person is named "Tom" on line 2.') in errors
    assert (3, "company_siret", "This company has another SIRET on line 2.") in errors


def test_importing_the_same_file_twice_is_refused(db, personas, cohort) -> None:
    text = _csv(*_valid_rows(personas))
    csv_import.run_import(db, personas.admin, text)
    plan = csv_import.validate_text(db, personas.admin, text)
    assert not plan.ok
    assert {e.message for e in plan.errors} == {
        "This apprentice already has an apprenticeship in this cohort."
    }
    with pytest.raises(csv_import.ImportRejected):
        csv_import.run_import(db, personas.admin, text)


def test_ambiguous_cohort_name_is_an_error(db, personas, cohort) -> None:
    twin = make_cohort(db)
    twin.name = "FISA Import 2025"  # same name, another school
    db.flush()
    plan = csv_import.validate_text(db, personas.admin, _csv(*_valid_rows(personas)[:1]))
    assert _errors(plan) == [
        (2, "cohort_name", "Several cohorts have this name: rename one of them.")
    ]


# --- Whole-file errors -----------------------------------------------------------------------


def test_header_problems(db, personas) -> None:
    plan = csv_import.validate_text(
        db, personas.admin, "apprentice_email,apprentice_mail,apprentice_email\nx,y,z\n"
    )
    errors = _errors(plan)
    assert (1, "apprentice_mail", 'Unknown column "apprentice_mail".') in errors
    assert (1, "apprentice_email", 'The column "apprentice_email" appears twice.') in errors
    assert any(e[2].startswith("Missing columns: apprentice_name, tutor_email") for e in errors)


def test_empty_and_header_only_files(db, personas) -> None:
    assert _errors(csv_import.validate(db, personas.admin, b"")) == [
        (None, "", "The file is empty.")
    ]
    assert _errors(csv_import.validate_text(db, personas.admin, HEADER + "\n\n")) == [
        (None, "", "The file has no data rows.")
    ]


def test_file_larger_than_2_mb_is_refused(db, personas) -> None:
    raw = (HEADER + "\n").encode() + b"x" * csv_import.MAX_BYTES
    assert _errors(csv_import.validate(db, personas.admin, raw)) == [
        (None, "", "The file is larger than 2 MB.")
    ]


def test_more_than_5000_rows_is_refused(db, personas, cohort) -> None:
    text = _csv(*(_row(f"a{n}@x.example") for n in range(csv_import.MAX_ROWS + 1)))
    assert _errors(csv_import.validate_text(db, personas.admin, text)) == [
        (None, "", "The file has more than 5000 rows.")
    ]


def test_not_utf8_names_the_line(admin, db, settings, personas, cohort) -> None:
    raw = _csv(*_valid_rows(personas)).encode().replace(b"Oscar", "Öscar".encode("latin-1"))
    plan = csv_import.validate(db, personas.admin, raw)
    assert _errors(plan) == [
        (3, "", 'This line is not valid UTF-8: save the file as "CSV UTF-8" and try again.')
    ]
    response = _upload(admin, settings, raw)
    assert response.status_code == 422 and "not valid UTF-8" in response.text


def test_malformed_quotes(db, personas) -> None:
    plan = csv_import.validate_text(db, personas.admin, HEADER + '\n"unterminated,a,b\n')
    assert len(plan.errors) == 1 and plan.errors[0].message == "Malformed CSV: {detail}."


def test_control_characters_are_refused_per_line(db, personas, cohort) -> None:
    rows = [_row("a1@x.example", "A\x07 1"), _row("a2@x.example", company="Corp\x1b")]
    errors = _errors(csv_import.validate_text(db, personas.admin, _csv(*rows)))
    assert (2, "apprentice_name", "The text contains a character that is not allowed.") in errors
    assert (3, "company_name", "The text contains a character that is not allowed.") in errors


def test_the_page_s_example_imports_as_shown(admin, db, settings, personas) -> None:
    """The example the page shows and the template file hold import as they are, French
    headers work too, and a company repeated on a line with a blank SIRET keeps the first."""
    cohort = make_cohort(db)
    cohort.name = "FISA 2025"
    db.flush()
    template = admin.get("/admin/import/template.csv")
    assert template.status_code == 200 and template.headers["content-type"].startswith("text/csv")
    text = template.content.decode("utf-8-sig")
    assert text.replace("\r\n", "\n").strip() in html.unescape(admin.get("/admin/import").text)
    plan = csv_import.validate_text(db, personas.admin, text)
    assert plan.ok, _errors(plan)
    assert [c.siret for c in plan.new_companies] == ["12345678901234"]
    french = (
        text.replace(
            text.splitlines()[0], ";".join(csv_import.FRENCH_COLUMNS[c] for c in csv_import.COLUMNS)
        )
        .replace("debut", "Début")
        .replace("nombre_semestres", "Nombre de semestres")
    )
    assert csv_import.validate_text(db, personas.admin, french).ok
    result = csv_import.run_import(db, personas.admin, text)
    assert (result.apprenticeships, result.companies) == (2, 1)
