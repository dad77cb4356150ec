"""The school domain's set-up services behind the API: organisations, one cohort, the CSV
import from bytes (with the ids it created), and a cohort's progress."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Apprenticeship, OrganisationKind, User
from app.services.errors import Forbidden, NotFound
from app.services.pages import dashboard
from app.services.school import cohorts, csv_import
from app.services.validation import FieldErrors
from tests.factories import make_apprenticeship, make_cohort, make_organisation
from tests.helpers import Personas, count_rows


def test_add_organisation_checks_name_and_siret(db: Session, personas: Personas) -> None:
    admin = personas.admin
    org = cohorts.add_organisation(
        db, admin, name="  Aéro   Neuve ", kind=OrganisationKind.COMPANY, siret="123 456 789 01234"
    )
    assert (org.name, org.siret) == ("Aéro Neuve", "12345678901234")
    with pytest.raises(FieldErrors) as caught:
        cohorts.add_organisation(
            db, admin, name="aéro neuve", kind=OrganisationKind.SCHOOL, siret="12a"
        )
    assert set(caught.value.messages) == {"name", "siret"}
    with pytest.raises(FieldErrors):
        cohorts.add_organisation(db, admin, name=" ", kind=OrganisationKind.SCHOOL)
    with pytest.raises(Forbidden):
        cohorts.add_organisation(db, personas.tutor_a, name="X", kind=OrganisationKind.SCHOOL)


def test_list_and_get_organisations(db: Session, personas: Personas) -> None:
    school = make_organisation(db, kind=OrganisationKind.SCHOOL, name="AAA École")
    schools = cohorts.list_organisations(db, personas.admin, kind=OrganisationKind.SCHOOL)
    assert school in schools and all(o.kind is OrganisationKind.SCHOOL for o in schools)
    assert len(cohorts.list_organisations(db, personas.admin)) > len(schools)
    assert cohorts.get_organisation(db, personas.admin, school.id) is school
    with pytest.raises(NotFound):
        cohorts.get_organisation(db, personas.admin, 2_000_000_000)


def test_get_cohort_counts_its_apprenticeships(db: Session, personas: Personas) -> None:
    row = cohorts.get_cohort(db, personas.admin, personas.apprenticeship_a.cohort_id)
    assert row.apprenticeships == 2 and row.cohort.school.kind is OrganisationKind.SCHOOL
    with pytest.raises(NotFound):
        cohorts.get_cohort(db, personas.admin, 2_000_000_000)
    with pytest.raises(Forbidden):
        cohorts.get_cohort(db, personas.supervisor_a, personas.apprenticeship_a.cohort_id)


def test_run_import_file_returns_what_it_created(db: Session, personas: Personas) -> None:
    cohort = make_cohort(db)
    text = csv_import.example_csv().replace("FISA 2025", cohort.name)
    result = csv_import.run_import_file(db, personas.admin, ("\ufeff" + text).encode())
    assert result.apprenticeships == len(result.apprenticeship_ids) == 2
    assert result.users == len(result.user_ids) == 4
    assert result.company_ids and result.companies == 1
    created = [db.get(Apprenticeship, i) for i in result.apprenticeship_ids]
    assert all(a is not None and a.cohort_id == cohort.id for a in created)
    assert {u.email for u in (db.get(User, i) for i in result.user_ids) if u} >= {
        "alice.martin@example.org",
        "s.leroy@ecole.example",
    }


def test_run_import_file_refuses_a_file_that_is_not_utf8(db: Session, personas: Personas) -> None:
    before = count_rows(db, User)
    with pytest.raises(csv_import.ImportRejected) as caught:
        csv_import.run_import_file(db, personas.admin, b"apprentice_email\n\xff\n")
    assert caught.value.plan.errors[0].line == 2
    assert count_rows(db, User) == before
    assert isinstance(csv_import.decode(b"\xef\xbb\xbfa;b"), str)


def test_cohort_progress_is_scoped_like_the_dashboard(
    db: Session, settings: Settings, personas: Personas
) -> None:
    p, today = personas, date(2026, 1, 15)
    cohort_id = p.apprenticeship_a.cohort_id
    board = dashboard.cohort_progress(db, settings, p.admin, cohort_id, today)
    assert {r.apprenticeship.id for r in board.rows} == {
        p.apprenticeship_a.id,
        p.apprenticeship_b.id,
    }
    mine = dashboard.cohort_progress(db, settings, p.supervisor_a, cohort_id, today)
    assert [r.apprenticeship.id for r in mine.rows] == [p.apprenticeship_a.id]
    elsewhere = make_apprenticeship(db, supervisor=p.supervisor_b)
    with pytest.raises(NotFound):
        dashboard.cohort_progress(db, settings, p.supervisor_a, elsewhere.cohort_id, today)
    for who in (p.apprentice_a, p.tutor_a, p.outsider):
        with pytest.raises(Forbidden):
            dashboard.cohort_progress(db, settings, who, cohort_id, today)
