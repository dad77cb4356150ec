"""A school sets up a year through the API only: a token, a school, a company, a cohort,
people, an apprenticeship, a new tutor, a CSV import (dry run, then for real), and the cohort's
progress, scoped as the dashboard is."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Apprenticeship, AuditEvent, Organisation, User
from tests.factories import PASSWORD, make_user
from tests.helpers import Personas, bearer, count_rows

API = "/api/v1"
CSV_HEADER = (
    "apprentice_email;apprentice_name;tutor_email;tutor_name;supervisor_email;"
    "supervisor_name;company_name;cohort_name;starts_on;ends_on;company_siret\n"
)


def token_for(client: TestClient, email: str) -> dict[str, str]:
    response = client.post(f"{API}/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def csv_of(cohort: str, *rows: str) -> bytes:
    return (
        CSV_HEADER + "".join(f"{row};{cohort};2026-09-01;2029-08-31;\n" for row in rows)
    ).encode()


def written(db: Session) -> dict[str, int]:
    return {m.__name__: count_rows(db, m) for m in (User, Organisation, Apprenticeship, AuditEvent)}


def test_a_school_sets_up_its_year_through_the_api(client: TestClient, db: Session) -> None:
    make_user(db, email="admin@ecole.example", is_admin=True)
    admin = token_for(client, "admin@ecole.example")

    school = created(
        client.post(
            f"{API}/organisations", json={"name": "École Test", "kind": "school"}, headers=admin
        )
    )
    company = created(
        client.post(
            f"{API}/organisations",
            json={"name": "Aéro Test", "kind": "company", "siret": "123 456 789 01234"},
            headers=admin,
        )
    )
    assert company["siret"] == "12345678901234"
    listed = client.get(f"{API}/organisations?kind=school", headers=admin).json()
    assert [o["name"] for o in listed] == ["École Test"]
    assert client.get(f"{API}/organisations/{company['id']}", headers=admin).json() == company

    certifications = client.get(f"{API}/certifications", headers=admin).json()
    cert_id = next(c["id"] for c in certifications if c["rncp_code"] == "RNCP39303")
    cohort = created(
        client.post(
            f"{API}/cohorts",
            json={
                "name": "FISA 2026",
                "intake_year": 2026,
                "certification_id": cert_id,
                "school_id": school["id"],
            },
            headers=admin,
        )
    )
    assert cohort["school"]["id"] == school["id"] and cohort["apprenticeship_count"] == 0
    assert cohort in client.get(f"{API}/cohorts", headers=admin).json()

    def person(email: str, name: str) -> dict[str, Any]:
        return created(
            client.post(
                f"{API}/users",
                json={"email": email, "full_name": name, "password": PASSWORD},
                headers=admin,
            )
        )

    apprentice = person("lea@ecole.example", "Léa Apprentie")
    tutor = person("tom@aero.example", "Tom Tuteur")
    supervisor = person("sam@ecole.example", "Sam Responsable")
    new_tutor = person("tina@aero.example", "Tina Tutrice")
    appr = created(
        client.post(
            f"{API}/apprenticeships",
            json={
                "apprentice_id": apprentice["id"],
                "tutor_id": tutor["id"],
                "supervisor_id": supervisor["id"],
                "company_id": company["id"],
                "cohort_id": cohort["id"],
                "starts_on": "2026-09-01",
                "ends_on": "2029-08-31",
            },
            headers=admin,
        )
    )
    moved = client.patch(
        f"{API}/apprenticeships/{appr['id']}/parties",
        json={"tutor_email": new_tutor["email"], "supervisor_email": supervisor["email"]},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["tutor"]["id"] == new_tutor["id"]
    roles = client.get(f"{API}/users/{tutor['id']}", headers=admin).json()["apprenticeships"]
    assert roles == []  # the former tutor lost the apprenticeship

    # The CSV: a dry run writes nothing, then the import creates the people and the rows.
    csv = csv_of(
        "FISA 2026",
        "ana@ecole.example;Ana Nouvelle;tina@aero.example;Tina Tutrice;"
        "other@ecole.example;Olga Responsable;Aéro Test",
        "ben@ecole.example;Ben Nouveau;tina@aero.example;Tina Tutrice;"
        "sam@ecole.example;Sam Responsable;Nouvelle Entreprise",
    )
    before = written(db)
    dry = client.post(
        f"{API}/imports?dry_run=true", content=csv, headers={**admin, "Content-Type": "text/csv"}
    )
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["ok"] and report["rows"] == 2 and report["errors"] == []
    assert sorted(p["email"] for p in report["new_people"]) == [
        "ana@ecole.example",
        "ben@ecole.example",
        "other@ecole.example",
    ]
    assert [c["name"] for c in report["new_companies"]] == ["Nouvelle Entreprise"]
    assert written(db) == before
    result = created(
        client.post(f"{API}/imports", content=csv, headers={**admin, "Content-Type": "text/csv"})
    )
    assert (result["apprenticeships"], result["users"], result["companies"]) == (2, 3, 1)
    emails = {
        client.get(f"{API}/users/{i}", headers=admin).json()["email"] for i in result["user_ids"]
    }
    assert emails == {"ana@ecole.example", "ben@ecole.example", "other@ecole.example"}

    me = client.get(f"{API}/me", headers=token_for(client, "sam@ecole.example")).json()
    assert me["email"] == "sam@ecole.example" and not me["is_admin"]
    assert len(me["apprenticeships"]) == 2
    assert {tuple(r["roles"]) for r in me["apprenticeships"]} == {("supervisor",)}

    # Progress: the admin sees the three rows, Sam the two he supervises.
    url = f"{API}/cohorts/{cohort['id']}/progress"
    everyone = client.get(url, headers=admin)
    assert everyone.status_code == 200, everyone.text
    assert everyone.json()["total_in_cohort"] == 3 and len(everyone.json()["rows"]) == 3
    sam = client.get(url, headers=token_for(client, "sam@ecole.example")).json()
    assert sorted(r["apprentice_email"] for r in sam["rows"]) == [
        "ben@ecole.example",
        "lea@ecole.example",
    ]
    assert sam["block_codes"] and len(sam["rows"][0]["blocks"]) == len(sam["block_codes"])
    # The apprentice and the tutor do not follow cohorts.
    for who in ("lea@ecole.example", "tina@aero.example"):
        assert client.get(url, headers=token_for(client, who)).status_code == 403


def test_supervisor_sees_only_their_rows_of_a_cohort(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    url = f"{API}/cohorts/{p.apprenticeship_a.cohort_id}/progress"
    response = client.get(url, headers=bearer(db, p.supervisor_a))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["apprenticeship_id"] for r in body["rows"]] == [p.apprenticeship_a.id]
    assert body["total_in_cohort"] == 1
    assert p.apprentice_b.full_name not in response.text


def test_a_cohort_without_a_visible_row_is_not_found(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    from tests.factories import make_apprenticeship, make_cohort

    other = make_apprenticeship(db, supervisor=p.supervisor_b, cohort=make_cohort(db))
    headers = bearer(db, p.supervisor_a)
    hidden = client.get(f"{API}/cohorts/{other.cohort_id}/progress", headers=headers)
    missing = client.get(f"{API}/cohorts/2000000000/progress", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    # The admin sees it; an empty cohort has no row for anyone, so it is not found either.
    admin = bearer(db, p.admin)
    assert client.get(f"{API}/cohorts/{other.cohort_id}/progress", headers=admin).status_code == 200
    empty = make_cohort(db)
    assert client.get(f"{API}/cohorts/{empty.id}/progress", headers=admin).status_code == 404


def test_apprentice_tutor_and_outsider_get_403_on_cohort_progress(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    url = f"{API}/cohorts/{p.apprenticeship_a.cohort_id}/progress"
    for who in (p.apprentice_a, p.tutor_a, p.outsider):
        assert client.get(url, headers=bearer(db, who)).status_code == 403, who.full_name


def test_non_admins_cannot_set_up_the_school(
    client: TestClient, db: Session, personas: Personas
) -> None:
    headers = bearer(db, personas.supervisor_a)
    before = written(db)
    answers = [
        client.get(f"{API}/users", headers=headers),
        client.get(f"{API}/cohorts", headers=headers),
        client.get(f"{API}/organisations", headers=headers),
        client.post(f"{API}/organisations", json={"name": "X", "kind": "school"}, headers=headers),
        client.post(f"{API}/imports?dry_run=true", content=b"x", headers=headers),
        client.patch(
            f"{API}/apprenticeships/{personas.apprenticeship_a.id}/parties",
            json={"tutor_email": personas.tutor_b.email, "supervisor_email": "x@test.example"},
            headers=headers,
        ),
    ]
    assert [a.status_code for a in answers] == [403] * len(answers)
    assert written(db) == before


def test_an_import_with_errors_writes_nothing(
    client: TestClient, db: Session, personas: Personas
) -> None:
    admin = bearer(db, personas.admin)
    csv = csv_of("No such cohort", "x@ecole.example;X;y@aero.example;Y;z@ecole.example;Z;Co")
    before = written(db)
    dry = client.post(f"{API}/imports?dry_run=true", content=csv, headers=admin).json()
    assert not dry["ok"] and dry["error_count"] >= 1
    assert dry["errors"][0]["line"] == 2 and dry["errors"][0]["column"] == "cohort_name"
    rejected = client.post(f"{API}/imports", content=csv, headers=admin)
    assert rejected.status_code == 422
    assert rejected.headers["content-type"].startswith("application/problem+json")
    assert written(db) == before
    not_utf8 = client.post(f"{API}/imports", content=b"\xff\xfe", headers=admin)
    assert not_utf8.status_code == 422


def test_party_reassignment_keeps_the_pages_safeguards(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    admin = bearer(db, p.admin)
    url = f"{API}/apprenticeships/{p.apprenticeship_a.id}/parties"
    gone = make_user(db, is_active=False)
    cases = [
        {"tutor_email": p.apprentice_a.email, "supervisor_email": p.supervisor_a.email},
        {"tutor_email": gone.email, "supervisor_email": p.supervisor_a.email},
        {"tutor_email": "nobody@test.example", "supervisor_email": p.supervisor_a.email},
    ]
    for body in cases:
        response = client.patch(url, json=body, headers=admin)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "tutor_email"
    db.refresh(p.apprenticeship_a)
    assert p.apprenticeship_a.tutor_id == p.tutor_a.id
    missing = client.patch(
        f"{API}/apprenticeships/2000000000/parties", json=cases[0], headers=admin
    )
    assert missing.status_code == 404


def test_organisation_and_cohort_inputs_are_checked(
    client: TestClient, db: Session, personas: Personas
) -> None:
    admin = bearer(db, personas.admin)
    company = personas.apprenticeship_a.company
    db.refresh(company)
    taken = client.post(
        f"{API}/organisations", json={"name": company.name.upper(), "kind": "school"}, headers=admin
    )
    assert taken.status_code == 422
    assert taken.json()["errors"][0]["field"] == "name"
    bad_siret = client.post(
        f"{API}/organisations",
        json={"name": "Neuve", "kind": "company", "siret": "12"},
        headers=admin,
    )
    assert bad_siret.json()["errors"][0]["field"] == "siret"
    wrong_school = client.post(
        f"{API}/cohorts",
        json={"name": "X", "intake_year": 2026, "certification_id": 1, "school_id": company.id},
        headers=admin,
    )
    assert wrong_school.status_code == 422
    assert client.get(f"{API}/cohorts/2000000000", headers=admin).status_code == 404
    assert client.get(f"{API}/organisations/2000000000", headers=admin).status_code == 404
