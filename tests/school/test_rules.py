"""A new apprenticeship is checked by one function, whichever door it comes through: the API
(by ids), the admin form (by emails) and the CSV import (by line) give the same answer in their
own field names, and one validation shape (field -> message) carries it."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Cohort, OrganisationKind, User
from app.services.school import csv_import, rules
from tests.factories import make_cohort, make_organisation, make_user
from tests.helpers import Personas, bearer, login_as, post_form

HEADER = ",".join(csv_import.REQUIRED_COLUMNS + csv_import.OPTIONAL_COLUMNS)
THREE = "The apprentice, the tutor and the supervisor must be three people."
ENDS = "The end date must be after the start date."
DEACTIVATED = "This account is deactivated."


def test_the_rule_answers_field_by_field() -> None:
    same = rules.PersonRef("a@x.example")
    draft = rules.ApprenticeshipDraft(
        apprentice=same,
        tutor=same,
        supervisor=rules.PersonRef("s@x.example", active=False),
        company_kind=OrganisationKind.SCHOOL,
        starts_on=date(2026, 9, 1),
        ends_on=date(2026, 9, 1),
        semester_count=13,
        apprentice_in_cohort=True,
    )
    assert {f: m for f, (m, _) in rules.apprenticeship_problems(draft).items()} == {
        "apprentice_id": "This apprentice already has an apprenticeship in this cohort.",
        "tutor_id": THREE,
        "supervisor_id": DEACTIVATED,
        "company_id": "This name belongs to a school, not a company.",
        "ends_on": ENDS,
        "semester_count": "The number of semesters must be between 1 and 12.",
    }
    fine = rules.ApprenticeshipDraft(
        rules.PersonRef("a@x.example"),
        rules.PersonRef("t@x.example"),
        rules.PersonRef("s@x.example"),
        OrganisationKind.COMPANY,
        date(2026, 9, 1),
        date(2029, 8, 31),
        6,
    )
    assert rules.apprenticeship_problems(fine) == {}


def test_clean_siret() -> None:
    assert rules.clean_siret(" 123 456 789 01234 ") == "12345678901234"
    assert rules.clean_siret("") is None
    for bad in ("123", "1234567890123٤", "1234567890123a"):
        with pytest.raises(ValueError):
            rules.clean_siret(bad)


@pytest.fixture
def people(db: Session) -> tuple[User, User, User]:
    return make_user(db), make_user(db), make_user(db, is_active=False)


@pytest.fixture
def named_cohort(db: Session) -> Cohort:
    cohort = make_cohort(db)
    cohort.name = "FISA Règles"
    db.flush()
    return cohort


def test_the_same_problems_come_out_of_the_api_the_form_and_the_import(
    client: TestClient,
    db: Session,
    settings: Settings,
    personas: Personas,
    people: tuple[User, User, User],
    named_cohort: Cohort,
) -> None:
    """The tutor is the apprentice, the supervisor is deactivated, the dates are backwards."""
    apprentice, _other, inactive = people
    company = make_organisation(db)
    personas.admin.locale = "en"
    db.flush()

    api = client.post(
        "/api/v1/apprenticeships",
        json={
            "apprentice_id": apprentice.id,
            "tutor_id": apprentice.id,
            "supervisor_id": inactive.id,
            "company_id": company.id,
            "cohort_id": named_cohort.id,
            "starts_on": "2026-09-01",
            "ends_on": "2026-08-31",
        },
        headers=bearer(db, personas.admin),
    )
    assert api.status_code == 422
    api_errors = {e["field"]: e["message"] for e in api.json()["errors"]}
    assert api_errors == {"tutor_id": THREE, "supervisor_id": DEACTIVATED, "ends_on": ENDS}

    login_as(client, db, settings, personas.admin)
    client.get("/admin/apprenticeships/new")
    form = post_form(
        client,
        settings,
        "/admin/apprenticeships",
        {
            "apprentice_email": apprentice.email,
            "tutor_email": apprentice.email,
            "supervisor_email": inactive.email,
            "company_name": company.name,
            "company_siret": "",
            "cohort_id": str(named_cohort.id),
            "starts_on": "2026-09-01",
            "ends_on": "2026-08-31",
            "semester_count": "6",
        },
    )
    assert form.status_code == 422
    for message in (THREE, DEACTIVATED, ENDS):
        assert message in form.text

    line = ",".join(
        [
            apprentice.email,
            "",
            apprentice.email,
            "",
            inactive.email,
            "",
            company.name,
            named_cohort.name,
            "2026-09-01",
            "2026-08-31",
            "",
            "",
            "",
            "",
            "",
        ]
    )
    plan = csv_import.validate_text(db, personas.admin, f"{HEADER}\n{line}\n")
    csv_errors = {e.column: e.message for e in plan.errors if e.line == 2}
    assert csv_errors == {"tutor_email": THREE, "supervisor_email": DEACTIVATED, "ends_on": ENDS}
