"""The administration area: who may see and change, cohorts, accounts, apprenticeships."""

from __future__ import annotations

import html
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import (
    ApiToken,
    Apprenticeship,
    AuditEvent,
    AuthSession,
    Cohort,
    Organisation,
    SemesterReview,
    User,
)
from app.models.base import utcnow
from app.services.people import auth as auth_service
from app.services.people.auth import LoginOutcome
from tests.factories import PASSWORD, certification, make_apprenticeship, make_cohort, make_user
from tests.helpers import HX, Personas, bearer, count_rows, login_as, post_form
from tests.querycount import count_queries

NEW_PASSWORD = "a brand new secret"


@pytest.fixture
def admin(client: TestClient, db: Session, settings: Settings, personas: Personas) -> TestClient:
    """The client signed in as the administrator, pages in English."""
    personas.admin.locale = "en"
    db.flush()
    login_as(client, db, settings, personas.admin)
    return client


def _text(response) -> str:
    return html.unescape(response.text)


def _pages(p: Personas) -> list[str]:
    return [
        "/admin",
        "/admin/cohorts",
        "/admin/users",
        f"/admin/users/{p.apprentice_a.id}",
        "/admin/apprenticeships",
        "/admin/apprenticeships/new",
        f"/admin/apprenticeships/{p.apprenticeship_a.id}",
        "/admin/import",
    ]


def _actions(p: Personas) -> list[tuple[str, dict]]:
    appr = p.apprenticeship_a.id
    return [
        ("/admin/cohorts", {"name": "X", "intake_year": "2025"}),
        ("/admin/users", {"email": "new@test.example", "full_name": "New"}),
        (f"/admin/users/{p.apprentice_b.id}/deactivate", {}),
        (f"/admin/users/{p.apprentice_b.id}/reactivate", {}),
        (f"/admin/users/{p.apprentice_b.id}/password", {"password": NEW_PASSWORD}),
        ("/admin/apprenticeships", {"apprentice_email": p.outsider.email}),
        (
            f"/admin/apprenticeships/{appr}/parties",
            {"tutor_email": p.tutor_b.email, "supervisor_email": p.supervisor_a.email},
        ),
        (
            f"/admin/apprenticeships/{appr}/semesters/1",
            {"starts_on": "2025-09-02", "ends_on": "2026-02-27"},
        ),
        ("/admin/import/confirm", {"csv_text": "apprentice_email\n"}),
    ]


# --- Who may see and change ------------------------------------------------------------------


def test_admin_sees_every_page(admin, personas) -> None:
    for url in _pages(personas):
        response = admin.get(url)
        assert response.status_code == 200, url
        assert "<html" in response.text and 'aria-current="page"' in response.text


@pytest.mark.parametrize("who", ["apprentice_a", "tutor_a", "supervisor_a", "outsider"])
def test_non_admins_get_403_on_every_page(client, db, settings, personas, who) -> None:
    login_as(client, db, settings, getattr(personas, who))
    for url in _pages(personas):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("who", ["apprentice_a", "tutor_a", "supervisor_a", "outsider"])
def test_non_admins_get_403_on_every_action(client, db, settings, personas, who) -> None:
    login_as(client, db, settings, getattr(personas, who))
    before = (count_rows(db, User), count_rows(db, Cohort), count_rows(db, AuditEvent))
    for url, data in _actions(personas):
        assert post_form(client, settings, url, data).status_code == 403, url
    files = {"file": ("a.csv", b"apprentice_email\n", "text/csv")}
    assert post_form(client, settings, "/admin/import", files=files).status_code == 403
    assert (count_rows(db, User), count_rows(db, Cohort), count_rows(db, AuditEvent)) == before
    db.refresh(personas.apprentice_b)
    assert personas.apprentice_b.is_active


def test_anonymous_visitor_is_sent_to_sign_in(client, personas) -> None:
    response = client.get("/admin/users")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/users"


def test_missing_csrf_token_is_refused(admin, db, personas) -> None:
    response = admin.post(f"/admin/users/{personas.apprentice_b.id}/deactivate")
    assert response.status_code == 403
    response = admin.post("/admin/users", data={"email": "x@test.example", "full_name": "X"})
    assert response.status_code == 403
    db.refresh(personas.apprentice_b)
    assert personas.apprentice_b.is_active
    assert db.scalar(select(User).where(User.email == "x@test.example")) is None


# --- Cohorts ---------------------------------------------------------------------------------


def test_create_cohort_with_a_new_school(admin, db, settings) -> None:
    cert = certification(db, "RNCP39668")
    response = post_form(
        admin,
        settings,
        "/admin/cohorts",
        {
            "certification_id": str(cert.id),
            "new_school_name": "ISAE-ENSMA Poitiers",
            "intake_year": "2026",
            "name": "FISA 2026",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/cohorts?done=created"
    cohort = db.scalars(select(Cohort).where(Cohort.name == "FISA 2026")).one()
    assert cohort.certification_id == cert.id and cohort.intake_year == 2026
    page = _text(admin.get(response.headers["location"]))
    assert "FISA 2026" in page and "ISAE-ENSMA Poitiers" in page and "Created." in page
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(2)).all()
    assert list(actions) == ["cohort.create", "organisation.create"]


def test_cohort_form_errors_are_shown_next_to_the_fields(admin, db, settings, personas) -> None:
    response = post_form(
        admin, settings, "/admin/cohorts", {"name": "Typed name", "intake_year": "1950"}
    )
    assert response.status_code == 422
    text = _text(response)
    assert 'id="certification_id-error"' in text and "Choose a certification." in text
    assert "The intake year must be between 2000 and 2100." in text
    assert "Choose a school, or type the name of a new one." in text
    assert 'value="Typed name"' in text  # what was typed is kept

    existing = personas.apprenticeship_a.cohort
    response = post_form(
        admin,
        settings,
        "/admin/cohorts",
        {
            "certification_id": str(existing.certification_id),
            "school_id": str(existing.school_id),
            "intake_year": "2025",
            "name": existing.name,
        },
    )
    assert response.status_code == 422
    assert "This school already has a cohort with this name." in _text(response)


# --- Accounts --------------------------------------------------------------------------------


def test_create_user_without_password(admin, db, settings) -> None:
    response = post_form(
        admin,
        settings,
        "/admin/users",
        {"email": " Nina.Nouvelle@Test.example ", "full_name": "Nina  Nouvelle", "locale": "en"},
    )
    assert response.status_code == 303
    user = db.scalars(select(User).where(User.email == "nina.nouvelle@test.example")).one()
    assert response.headers["location"] == f"/admin/users/{user.id}?done=created"
    assert (user.full_name, user.locale, user.is_admin) == ("Nina Nouvelle", "en", False)
    assert user.password_hash is None
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.create")).one()
    assert event.entity_id == str(user.id) and event.ip == "testclient"
    assert "no password yet" in admin.get(response.headers["location"]).text


def test_create_admin_with_initial_password(admin, db, settings) -> None:
    response = post_form(
        admin,
        settings,
        "/admin/users",
        {
            "email": "second.admin@test.example",
            "full_name": "Second Admin",
            "is_admin": "true",
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    result = auth_service.authenticate(
        db, settings, "second.admin@test.example", NEW_PASSWORD, ip=None
    )
    assert result.outcome is LoginOutcome.OK and result.user and result.user.is_admin


def test_duplicate_email_is_refused_next_to_the_field(admin, db, settings, personas) -> None:
    response = post_form(
        admin,
        settings,
        "/admin/users",
        {"email": personas.tutor_a.email.upper(), "full_name": "Someone Else"},
    )
    assert response.status_code == 409
    text = _text(response)
    assert 'id="email-error"' in text
    assert "An account with this email already exists." in text
    assert 'value="Someone Else"' in text


def test_invalid_user_form_lists_every_problem(admin, db, settings) -> None:
    before = count_rows(db, User)
    response = post_form(
        admin,
        settings,
        "/admin/users",
        {"email": "not-an-email", "full_name": "", "password": "short"},
    )
    assert response.status_code == 422
    text = _text(response)
    assert "This email address is not valid." in text
    assert 'id="full_name-error"' in text
    assert "The password must have at least 12 characters." in text
    assert 'value="not-an-email"' in text
    assert count_rows(db, User) == before


def test_deactivating_ends_sessions_and_deletes_api_tokens(
    admin, app, db, settings, personas
) -> None:
    target = personas.tutor_a
    with TestClient(app, follow_redirects=False) as other:
        login_as(other, db, settings, target)
        headers = bearer(db, target)
        assert other.get("/referentials").status_code == 200
        assert other.get("/api/v1/apprenticeships", headers=headers).status_code == 200

        # The tutor of an active apprenticeship: not without a replacement or a confirmation.
        response = post_form(admin, settings, f"/admin/users/{target.id}/deactivate")
        assert response.status_code == 409
        db.refresh(target)
        assert target.is_active
        assert other.get("/referentials").status_code == 200  # still signed in

        appr_id = personas.apprenticeship_a.id
        response = post_form(
            admin,
            settings,
            f"/admin/users/{target.id}/deactivate",
            {"confirm_apprenticeships": str(appr_id)},
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/admin/users/{target.id}?done=deactivated"

        db.refresh(target)
        assert not target.is_active
        assert db.scalar(select(func.count()).where(AuthSession.user_id == target.id)) == 0
        assert db.scalar(select(func.count()).where(ApiToken.user_id == target.id)) == 0
        assert other.get("/referentials").status_code == 303  # signed out
        assert other.get("/api/v1/apprenticeships", headers=headers).status_code == 401
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.deactivate")).one()
    assert event.details["before"] == {"is_active": True}
    assert event.details["sessions_deleted"] == 1 and event.details["tokens_deleted"] == 1
    assert event.details["apprenticeships_confirmed"] == [personas.apprenticeship_a.id]

    response = post_form(admin, settings, f"/admin/users/{target.id}/reactivate")
    assert response.status_code == 303
    db.refresh(target)
    assert target.is_active


def test_htmx_deactivate_answers_the_updated_row(admin, db, settings, personas) -> None:
    target = personas.apprentice_b
    admin.get("/admin/users")
    confirm = {"confirm_apprenticeships": str(personas.apprenticeship_b.id)}
    url = f"/admin/users/{target.id}/deactivate"
    response = post_form(admin, settings, url, confirm, headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="user-{target.id}">')
    assert "<html" not in response.text
    assert f"/admin/users/{target.id}/reactivate" in response.text
    assert "livret:toast" in response.headers["HX-Trigger"]


def test_admin_cannot_deactivate_themselves(admin, db, settings, personas) -> None:
    response = post_form(admin, settings, f"/admin/users/{personas.admin.id}/deactivate")
    assert response.status_code == 409
    db.refresh(personas.admin)
    assert personas.admin.is_active


def test_reset_password_then_sign_in(admin, app, db, settings, personas) -> None:
    target = personas.supervisor_a
    login_as(TestClient(app), db, settings, target)  # an open session that must end
    response = post_form(
        admin, settings, f"/admin/users/{target.id}/password", {"password": NEW_PASSWORD}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/users/{target.id}?done=password"
    assert db.scalar(select(func.count()).where(AuthSession.user_id == target.id)) == 0
    db.expire_all()  # the request changed the row through its own session
    ok = auth_service.authenticate(db, settings, target.email, NEW_PASSWORD, ip=None)
    assert ok.outcome is LoginOutcome.OK and ok.user is not None and ok.user.id == target.id
    old = auth_service.authenticate(db, settings, target.email, PASSWORD, ip=None)
    assert old.outcome is LoginOutcome.INVALID
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.set_password")).one()
    assert event.actor_id == personas.admin.id and event.entity_id == str(target.id)


def test_too_short_password_is_refused_next_to_the_field(admin, db, settings, personas) -> None:
    target = personas.supervisor_a
    response = post_form(
        admin, settings, f"/admin/users/{target.id}/password", {"password": "short"}
    )
    assert response.status_code == 422
    text = _text(response)
    assert 'id="password-error"' in text and "at least 12 characters" in text
    ok = auth_service.authenticate(db, settings, target.email, PASSWORD, ip=None)
    assert ok.outcome is LoginOutcome.OK


def test_unknown_account_is_404(admin) -> None:
    assert admin.get("/admin/users/999999").status_code == 404


# --- Account list: search, paging, htmx ------------------------------------------------------


def test_users_htmx_partial_and_full_page_on_the_same_url(admin, personas) -> None:
    url = "/admin/users?q=responsable"
    fragment = admin.get(url, headers=HX)
    assert fragment.status_code == 200
    assert fragment.headers["Vary"] == "HX-Request"
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="users-results">')
    assert personas.supervisor_a.full_name in fragment.text
    # Alice appears in the supervisor's roles ("supervisor of ..."), not as a row of her own.
    assert f'id="user-{personas.apprentice_a.id}"' not in fragment.text

    full = admin.get(url)
    assert full.status_code == 200 and full.headers["Vary"] == "HX-Request"
    assert "<html" in full.text and 'value="responsable"' in full.text
    assert personas.supervisor_b.full_name in full.text
    assert f'id="user-{personas.apprentice_a.id}"' not in full.text

    restore = admin.get(url, headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


def test_users_search_by_email_and_paging(admin, db) -> None:
    for n in range(30):
        make_user(db, name=f"Paged Person {n:02d}", email=f"paged{n:02d}@paging.example")
    first = admin.get("/admin/users?q=paging.example")
    assert "30 accounts" in first.text
    assert "Paged Person 00" in first.text and "Paged Person 25" not in first.text
    assert 'href="/admin/users?q=paging.example&amp;page=2"' in first.text
    second = admin.get("/admin/users?q=paging.example&page=2", headers=HX)
    assert "Paged Person 25" in second.text and "Paged Person 00" not in second.text
    assert "Page 2 of 2" in second.text
    assert admin.get("/admin/users?q=%25").status_code == 200  # LIKE wildcards are escaped
    assert "No account matches" in admin.get("/admin/users?q=%25").text


def test_user_list_query_count_does_not_grow(admin, db, connection) -> None:
    for _ in range(3):
        make_user(db)
    admin.get("/admin/users")
    with count_queries(connection) as small:
        assert admin.get("/admin/users").status_code == 200
    for _ in range(40):
        make_user(db)
    with count_queries(connection) as large:
        assert admin.get("/admin/users").status_code == 200
    assert small.count == large.count


# --- Apprenticeships -------------------------------------------------------------------------


def test_apprenticeship_list_filters_by_cohort(admin, db, personas) -> None:
    other = make_apprenticeship(db, apprentice=make_user(db, name="Zoé Autre Promo"))
    text = admin.get(f"/admin/apprenticeships?cohort={personas.apprenticeship_a.cohort_id}").text
    assert personas.apprentice_a.full_name in text and personas.apprentice_b.full_name in text
    assert "Zoé Autre Promo" not in text
    assert "Zoé Autre Promo" in admin.get(f"/admin/apprenticeships?cohort={other.cohort_id}").text


def test_apprenticeship_list_query_count_does_not_grow(admin, db, connection, personas) -> None:
    cohort = personas.apprenticeship_a.cohort
    url = "/admin/apprenticeships"
    admin.get(url)
    with count_queries(connection) as small:
        assert admin.get(url).status_code == 200
    for _ in range(30):
        make_apprenticeship(db, cohort=cohort)
    with count_queries(connection) as large:
        response = admin.get(url)
    assert response.text.count('<th scope="row">') == 32
    assert small.count == large.count


def test_create_apprenticeship_with_a_new_company(admin, db, settings, personas) -> None:
    apprentice, tutor, supervisor = (make_user(db) for _ in range(3))
    cohort = personas.apprenticeship_a.cohort
    response = post_form(
        admin,
        settings,
        "/admin/apprenticeships",
        {
            "apprentice_email": apprentice.email,
            "tutor_email": tutor.email.upper(),
            "supervisor_email": supervisor.email,
            "company_name": "Nouvelle Entreprise SAS",
            "company_siret": "123 456 789 00012",
            "cohort_id": str(cohort.id),
            "starts_on": "2025-09-01",
            "ends_on": "2027-08-31",
            "semester_count": "4",
        },
    )
    assert response.status_code == 303, response.text
    appr = db.scalars(
        select(Apprenticeship).where(Apprenticeship.apprentice_id == apprentice.id)
    ).one()
    assert response.headers["location"] == f"/admin/apprenticeships/{appr.id}?done=created"
    assert appr.tutor_id == tutor.id and appr.semester_count == 4
    company = db.get(Organisation, appr.company_id)
    assert company is not None and company.siret == "12345678900012"
    reviews = db.scalars(
        select(SemesterReview).where(SemesterReview.apprenticeship_id == appr.id)
    ).all()
    assert len(reviews) == 4
    assert admin.get(response.headers["location"]).status_code == 200


def test_apprenticeship_form_errors_keep_the_input(admin, db, settings, personas) -> None:
    inactive = make_user(db, is_active=False)
    response = post_form(
        admin,
        settings,
        "/admin/apprenticeships",
        {
            "apprentice_email": "nobody@test.example",
            "tutor_email": inactive.email,
            "supervisor_email": "bad email",
            "company_name": "",
            "company_siret": "12",
            "starts_on": "2026-09-01",
            "ends_on": "2026-01-01",
            "semester_count": "20",
        },
    )
    assert response.status_code == 422
    text = _text(response)
    for message in (
        "No account with this email: create it first.",
        "This account is deactivated.",
        "This email address is not valid.",
        "A SIRET has 14 digits.",
        "Choose a cohort.",
        "The end date must be after the start date.",
        "The number of semesters must be between 1 and 12.",
    ):
        assert message in text, message
    assert 'value="nobody@test.example"' in text and 'value="2026-09-01"' in text
    assert 'id="company_name-error"' in text


def test_reassigning_the_tutor_changes_who_sees_the_apprenticeship(
    admin, app, db, settings, personas
) -> None:
    appr = personas.apprenticeship_a
    new_tutor = make_user(db, name="Nouveau Tuteur")
    url = f"/apprenticeships/{appr.id}"
    review_url = f"{url}/reviews/1"  # visible to the same people as the apprenticeship page
    with TestClient(app, follow_redirects=False) as old, TestClient(app) as new:
        login_as(old, db, settings, personas.tutor_a)
        login_as(new, db, settings, new_tutor)
        assert old.get(review_url).status_code == 200
        assert new.get(url).status_code == 404
        assert new.get(review_url).status_code == 404

        response = post_form(
            admin,
            settings,
            f"/admin/apprenticeships/{appr.id}/parties",
            {"tutor_email": new_tutor.email, "supervisor_email": personas.supervisor_a.email},
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/admin/apprenticeships/{appr.id}?done=parties"

        assert old.get(url).status_code == 404
        assert old.get(review_url).status_code == 404
        assert new.get(review_url).status_code == 200
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "apprenticeship.parties")
    ).one()
    assert event.details["before"]["tutor"] == personas.tutor_a.email
    assert event.details["after"]["tutor"] == new_tutor.email
    assert "Tutor and supervisor saved." in admin.get(response.headers["location"]).text


def test_reassigning_refuses_the_apprentice_and_unknown_people(admin, db, settings, personas):
    appr = personas.apprenticeship_a
    response = post_form(
        admin,
        settings,
        f"/admin/apprenticeships/{appr.id}/parties",
        {"tutor_email": personas.apprentice_a.email, "supervisor_email": "ghost@test.example"},
    )
    assert response.status_code == 422
    text = _text(response)
    assert 'id="parties-tutor_email-error"' in text
    assert "must be three people" in text
    assert "No account with this email: create it first." in text
    assert 'value="ghost@test.example"' in text
    db.refresh(appr)
    assert appr.tutor_id == personas.tutor_a.id


def test_adjust_semester_dates(admin, db, settings, personas) -> None:
    appr = personas.apprenticeship_a
    url = f"/admin/apprenticeships/{appr.id}/semesters/2"
    response = post_form(admin, settings, url, {"starts_on": "2026-03-02", "ends_on": "2026-08-28"})
    assert response.status_code == 303
    assert response.headers["location"].endswith("?done=dates#semester-2")
    review = db.scalars(
        select(SemesterReview).where(
            SemesterReview.apprenticeship_id == appr.id, SemesterReview.semester == 2
        )
    ).one()
    db.refresh(review)
    assert (review.starts_on, review.ends_on) == (date(2026, 3, 2), date(2026, 8, 28))
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "review.dates")).one()
    assert event.ip == "testclient"

    response = post_form(admin, settings, url, {"starts_on": "2026-09-01", "ends_on": "2026-03-01"})
    assert response.status_code == 422
    text = _text(response)
    assert 'id="s2-ends_on-error"' in text and "The end date must be after" in text
    assert 'value="2026-09-01"' in text


def test_locked_semester_dates_cannot_move(admin, db, settings, personas) -> None:
    appr = personas.apprenticeship_a
    review = db.scalars(
        select(SemesterReview).where(
            SemesterReview.apprenticeship_id == appr.id, SemesterReview.semester == 1
        )
    ).one()
    review.locked_at = utcnow()
    db.flush()
    page = admin.get(f"/admin/apprenticeships/{appr.id}").text
    assert f"/admin/apprenticeships/{appr.id}/semesters/1" not in page  # no form
    response = post_form(
        admin,
        settings,
        f"/admin/apprenticeships/{appr.id}/semesters/1",
        {"starts_on": "2025-09-02", "ends_on": "2026-02-27"},
    )
    assert response.status_code == 409
    assert "signed and locked" in _text(response)
    db.refresh(review)
    assert review.starts_on == date(2025, 9, 1)


def test_cohort_list_counts_apprenticeships(admin, db, personas) -> None:
    empty = make_cohort(db)
    text = admin.get("/admin/cohorts").text
    cohort = personas.apprenticeship_a.cohort
    assert f'<a href="/admin/apprenticeships?cohort={cohort.id}">2</a>' in text
    assert f'<a href="/admin/apprenticeships?cohort={empty.id}">0</a>' in text


def test_a_password_reset_also_revokes_the_api_tokens(admin, client, db, settings, personas):
    target = personas.supervisor_a
    headers = bearer(db, target)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    response = post_form(
        admin, settings, f"/admin/users/{target.id}/password", {"password": NEW_PASSWORD}
    )
    assert response.status_code == 303
    admin.cookies.clear()
    assert admin.get("/api/v1/me", headers=headers).status_code == 401
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.sessions_revoked")).one()
    assert event.details["tokens_deleted"] == 1
