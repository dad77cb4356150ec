"""Who may reach which record, walked from ``app.routes``.

Every route with a parameter in its path (a record's id, a semester, a referential code) is in
``ID_ROUTES``, which says how to fill its parameters and who is refused:

- the **outsider** (signed in, no role on the record: someone with no role at all, or the
  same role on the other apprenticeship) gets **404**, the same answer as for a record that
  does not exist: they learn nothing, not even that the record exists;
- the **party outside its role** (sees the record, may not do this) gets **403**, or the table
  says there is no such party.

Either refusal writes nothing. Routes without a record in their path are in one of three short
lists: ``PUBLIC`` (no sign-in), ``SIGNED_IN`` (lists scoped by the actor in SQL) and
``ADMIN_ONLY``. A route in none of them fails :func:`test_every_route_is_covered`, naming it: a
route added later needs its access test before it ships.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import (
    Apprenticeship,
    Attachment,
    AuditEvent,
    Cohort,
    CompetencyBlock,
    CompetencyRating,
    EnglishResult,
    LoginFailure,
    MobilityPeriod,
    OutboxMessage,
    PartyAssessment,
    Signature,
    SignCode,
    User,
    WorkSituation,
)
from app.services.documents.storage import stored_path
from app.services.people import auth as auth_service
from app.web.csrf import SESSION_COOKIE
from tests.factories import (
    PASSWORD,
    certification,
    competency,
    make_attachment,
    make_english_result,
    make_work_situation,
)
from tests.helpers import Personas, bearer, count_rows, csrf_for, pdf_bytes, png_bytes
from tests.routes import api_routes

COMPETENCY = "RNCP39303BC01-C01"
MISSING_ID = 2_000_000_000  # within every ``le=2_147_483_647`` path constraint


# --- The personas' records --------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """The records the table points at (all of apprenticeship A), and their path values."""

    personas: Personas
    params: dict[str, str]
    cohort_id: int
    company_id: int

    def missing(self) -> dict[str, str]:
        """The same values with every ``*_id`` pointing at no record."""
        return {k: str(MISSING_ID) if k.endswith("_id") else v for k, v in self.params.items()}


@pytest.fixture
def world(db: Session, settings: Settings, personas: Personas) -> Iterator[World]:
    p = personas
    situation = make_work_situation(db, p.apprenticeship_a, competency_code=COMPETENCY)
    result = make_english_result(db, p.apprenticeship_a)
    attachment = make_attachment(
        db, p.apprentice_a, work_situation=situation, directory=settings.attachments_dir
    )
    certificate = make_attachment(db, p.apprentice_a, english_result=result)
    cert = certification(db)
    block_code = db.scalars(
        select(CompetencyBlock.code)
        .where(CompetencyBlock.certification_id == cert.id)
        .order_by(CompetencyBlock.position)
    ).first()
    assert block_code is not None
    values: dict[str, Any] = {
        "apprenticeship_id": p.apprenticeship_a.id,
        "semester": 1,
        "situation_id": situation.id,
        "attachment_id": attachment.id,
        "certificate_id": certificate.id,  # an attachment too: the English result's
        "result_id": result.id,
        "user_id": p.apprentice_a.id,
        "competency_id": competency(db, COMPETENCY).id,
        "party": "tutor",
        "rncp_code": cert.rncp_code,
        "block_code": block_code,
        "cohort_id": p.apprenticeship_a.cohort_id,
        "organisation_id": p.apprenticeship_a.company_id,
    }
    yield World(
        personas=p,
        params={k: str(v) for k, v in values.items()},
        cohort_id=p.apprenticeship_a.cohort_id,
        company_id=p.apprenticeship_a.company_id,
    )
    stored_path(settings.attachments_dir, attachment.stored_name).unlink(missing_ok=True)


# --- Minimal valid-looking bodies -------------------------------------------------------------
# Each request must pass input validation so that it reaches the access check.

Body = Callable[[World], dict[str, Any]]


def form(**fields: Any) -> Body:
    return lambda _w: {"data": dict(fields)}


def json_body(**fields: Any) -> Body:
    return lambda _w: {"json": dict(fields)}


def upload(name: str, content: bytes, content_type: str) -> Body:
    return lambda _w: {"files": {"file": (name, io.BytesIO(content), content_type)}}


PNG_UPLOAD = upload("plan.png", png_bytes(), "image/png")
PDF_UPLOAD = upload("toeic.pdf", pdf_bytes(), "application/pdf")
SITUATION = {
    "title": "Essai de traction",
    "starts_on": "2025-11-03",
    "ends_on": "2025-11-07",
    "actions": "Préparation des éprouvettes",
    "competency_codes": [COMPETENCY],
}
ENGLISH = {"test_name": "TOEIC", "score": "900", "cefr_level": "C1", "taken_on": "2025-12-01"}
MOBILITY = {"country": "DE", "host": "Airbus", "starts_on": "2026-03-02", "ends_on": "2026-05-24"}
SEMESTER_DATES = {"starts_on": "2025-09-02", "ends_on": "2026-02-27"}


def rating_json(w: World, version: int) -> dict[str, Any]:
    rating = {"competency_id": int(w.params["competency_id"]), "level": 2}
    return {"json": {"version": version, "ratings": [rating]}}


def parties_form(w: World) -> dict[str, Any]:
    p = w.personas
    return {"data": {"tutor_email": p.tutor_b.email, "supervisor_email": p.supervisor_a.email}}


def parties_json(w: World) -> dict[str, Any]:
    return {"json": parties_form(w)["data"]}


def csv_content(_w: World) -> dict[str, Any]:
    return {"content": b"apprentice_email\n"}


def apprenticeship_json(w: World) -> dict[str, Any]:
    p = w.personas
    return {
        "json": {
            "apprentice_id": p.outsider.id,
            "tutor_id": p.tutor_a.id,
            "supervisor_id": p.supervisor_a.id,
            "company_id": w.company_id,
            "cohort_id": w.cohort_id,
            "starts_on": "2025-09-01",
            "ends_on": "2027-08-31",
        }
    }


# --- The table --------------------------------------------------------------------------------


class Nobody(NamedTuple):
    """No persona is refused this way here, and why."""

    reason: str


EVERY_PARTY = Nobody("no forbidden party: the three parties and the admin may all read it")
REDIRECT = Nobody("no forbidden party: it only leads back to its page, which decides")
REFERENCE = Nobody("reference data: every signed-in user reads it")


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    forbidden: str | Nobody  # the persona who sees the record but may not do this: 403
    body: Body | None = None
    outsider: str | Nobody = "outsider"  # the persona who must learn nothing: 404
    outsider_status: int = 404
    label: str = ""  # tells apart two cases of one route
    params: Mapping[str, str] = field(default_factory=dict)  # path parameter -> World key
    session_method: str = "password"  # how the browser session was opened

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.label}]" if self.label else "")

    def url(self, values: Mapping[str, str]) -> str:
        return self.path.format_map({k: values[self.params.get(k, k)] for k in path_params(self)})


def admin_case(method: str, path: str, forbidden: str, body: Body | None = None) -> Case:
    """The admin area refuses every non-admin with 403 before looking anything up (its
    documented rule, see app/routes/admin.py): the outsider gets the same 403 for a record
    that exists and for one that does not, so it learns nothing either."""
    return Case(method, path, forbidden, body, outsider_status=403)


A = "/apprenticeships/{apprenticeship_id}"
R = A + "/reviews/{semester}"
API = "/api/v1"

ID_ROUTES: tuple[Case, ...] = (
    # The portfolio and the journal
    Case("GET", A, EVERY_PARTY),
    Case("GET", A + "/journal", EVERY_PARTY, outsider="tutor_b"),
    Case("GET", A + "/journal/new", "tutor_a", outsider="apprentice_b"),
    Case("POST", A + "/journal/new", "tutor_a", form(**SITUATION), outsider="apprentice_b"),
    Case("POST", A + "/journal/validate", "tutor_a", form(**SITUATION), outsider="apprentice_b"),
    Case("GET", A + "/journal/validate", REDIRECT, outsider="apprentice_b"),
    Case("GET", "/work-situations/{situation_id}", EVERY_PARTY, outsider="supervisor_b"),
    Case("GET", "/work-situations/{situation_id}/edit", "tutor_a", outsider="apprentice_b"),
    Case(
        "POST",
        "/work-situations/{situation_id}/edit",
        "tutor_a",
        form(**SITUATION, version="1"),
        outsider="apprentice_b",
    ),
    Case("POST", "/work-situations/{situation_id}/submit", "tutor_a", outsider="apprentice_b"),
    Case(
        "POST",
        "/work-situations/{situation_id}/acknowledge",
        "apprentice_a",
        form(comment="Bien"),
        outsider="tutor_b",
    ),
    Case(
        "POST",
        "/work-situations/{situation_id}/request-changes",
        "supervisor_a",
        form(comment="Précisez"),
        outsider="tutor_b",
    ),
    Case("GET", "/work-situations/{situation_id}/delete", "tutor_a", outsider="apprentice_b"),
    Case("POST", "/work-situations/{situation_id}/delete", "tutor_a", outsider="apprentice_b"),
    Case(
        "POST",
        "/work-situations/{situation_id}/attachments",
        "tutor_a",
        PNG_UPLOAD,
        outsider="apprentice_b",
    ),
    Case("GET", "/attachments/{attachment_id}/delete", "tutor_a", outsider="apprentice_b"),
    Case(
        "GET",
        "/attachments/{attachment_id}/delete",
        "supervisor_a",
        outsider="apprentice_b",
        label="certificate",
        params={"attachment_id": "certificate_id"},
    ),
    Case("POST", "/attachments/{attachment_id}/delete", "tutor_a", outsider="apprentice_b"),
    Case(
        "POST",
        "/attachments/{attachment_id}/delete",
        "supervisor_a",
        outsider="apprentice_b",
        label="certificate",
        params={"attachment_id": "certificate_id"},
    ),
    # English results and mobility
    Case("GET", A + "/english", EVERY_PARTY),
    Case("POST", A + "/english", "tutor_a", form(**ENGLISH), outsider="apprentice_b"),
    Case(
        "POST",
        "/english-results/{result_id}/certificate",
        "tutor_a",
        PDF_UPLOAD,
        outsider="apprentice_b",
    ),
    Case("GET", A + "/mobility", EVERY_PARTY),
    Case("POST", A + "/mobility", "supervisor_a", form(**MOBILITY), outsider="apprentice_b"),
    # Semester reviews ({party} is the tutor)
    Case("GET", R, EVERY_PARTY, outsider="supervisor_b"),
    Case("GET", R + "/agreed/ratings/{competency_id}", REDIRECT),
    Case("GET", R + "/assessments/{party}/ratings/{competency_id}", REDIRECT),
    Case(
        "POST",
        R + "/assessments/{party}/ratings/{competency_id}",
        "apprentice_a",
        form(version="0", level="2"),
        outsider="tutor_b",
    ),
    Case(
        "POST",
        R + "/assessments/{party}/comment",
        "supervisor_a",
        form(version="0", text="Bon semestre"),
        outsider="tutor_b",
    ),
    Case(
        "POST",
        R + "/agreed/ratings/{competency_id}",
        "admin",  # admins hold no party
        form(version="1", level="2"),
        outsider="apprentice_b",
    ),
    Case(
        "POST",
        R + "/agreed/summary",
        "admin",
        form(version="1", text="Accord"),
        outsider="supervisor_b",
    ),
    Case(
        "POST",
        R + "/sign",
        "apprentice_a",
        form(role="tutor", password=PASSWORD),
        outsider="tutor_b",
    ),
    Case(
        "POST",
        R + "/sign/code",
        "apprentice_a",
        form(role="tutor"),
        outsider="tutor_b",
        session_method="link",
    ),
    Case("GET", R + "/reopen", "tutor_a", outsider="tutor_b"),
    Case("POST", R + "/reopen", "tutor_a", form(reason="Erreur de saisie"), outsider="tutor_b"),
    # Documents
    Case("GET", A + "/livret.pdf", EVERY_PARTY),
    # Administration
    admin_case("GET", "/admin/users/{user_id}", "tutor_a"),
    admin_case("GET", "/admin/users/{user_id}/deactivate", "tutor_a"),
    admin_case("POST", "/admin/users/{user_id}/deactivate", "tutor_a"),
    admin_case("POST", "/admin/users/{user_id}/reactivate", "tutor_a"),
    admin_case("POST", "/admin/users/{user_id}/invitation", "tutor_a"),
    admin_case("POST", API + "/users/{user_id}/invitations", "tutor_a", json_body()),
    admin_case(
        "POST", "/admin/users/{user_id}/password", "tutor_a", form(password="a new secret!")
    ),
    admin_case("GET", "/admin" + A, "supervisor_a"),
    admin_case("POST", "/admin" + A + "/parties", "supervisor_a", parties_form),
    admin_case(
        "POST", "/admin" + A + "/semesters/{semester}", "supervisor_a", form(**SEMESTER_DATES)
    ),
    # Referentials
    Case("GET", "/referentials/{rncp_code}", REFERENCE, outsider=REFERENCE),
    Case("GET", "/referentials/{rncp_code}/blocks/{block_code}", REFERENCE, outsider=REFERENCE),
    Case("GET", API + "/certifications/{rncp_code}", REFERENCE, outsider=REFERENCE),
    # The JSON API
    Case("GET", API + A, EVERY_PARTY),
    Case("GET", API + A + "/work-situations", EVERY_PARTY, outsider="tutor_b"),
    Case("POST", API + A + "/work-situations", "tutor_a", json_body(**SITUATION), "apprentice_b"),
    Case("GET", API + "/work-situations/{situation_id}", EVERY_PARTY),
    Case(
        "PATCH",
        API + "/work-situations/{situation_id}",
        "tutor_a",
        json_body(version=1, title="Autre titre"),
        outsider="apprentice_b",
    ),
    Case("DELETE", API + "/work-situations/{situation_id}", "tutor_a", outsider="apprentice_b"),
    Case(
        "POST", API + "/work-situations/{situation_id}/submit", "tutor_a", outsider="apprentice_b"
    ),
    Case(
        "POST",
        API + "/work-situations/{situation_id}/acknowledge",
        "apprentice_a",
        json_body(comment="Bien"),
        outsider="tutor_b",
    ),
    Case(
        "POST",
        API + "/work-situations/{situation_id}/request-changes",
        "supervisor_a",
        json_body(comment="Précisez"),
        outsider="tutor_b",
    ),
    Case(
        "POST",
        API + "/work-situations/{situation_id}/attachments",
        "tutor_a",
        PNG_UPLOAD,
        outsider="apprentice_b",
    ),
    Case("GET", API + "/work-situations/{situation_id}/attachments", EVERY_PARTY),
    Case("GET", API + "/attachments/{attachment_id}", EVERY_PARTY, outsider="tutor_b"),
    Case("DELETE", API + "/attachments/{attachment_id}", "tutor_a", outsider="apprentice_b"),
    Case(
        "DELETE",
        API + "/attachments/{attachment_id}",
        "tutor_a",
        outsider="apprentice_b",
        label="certificate",
        params={"attachment_id": "certificate_id"},
    ),
    Case("GET", API + A + "/english-results", EVERY_PARTY),
    Case("POST", API + A + "/english-results", "tutor_a", json_body(**ENGLISH), "apprentice_b"),
    Case(
        "POST",
        API + "/english-results/{result_id}/attachments",
        "supervisor_a",
        PDF_UPLOAD,
        outsider="apprentice_b",
    ),
    Case("GET", API + A + "/mobility-periods", EVERY_PARTY),
    Case("POST", API + A + "/mobility-periods", "tutor_a", json_body(**MOBILITY), "apprentice_b"),
    Case("GET", API + A + "/reviews", EVERY_PARTY),
    Case("GET", API + R, EVERY_PARTY, outsider="tutor_b"),
    Case("PATCH", API + R, "supervisor_a", json_body(**SEMESTER_DATES), outsider="supervisor_b"),
    Case(
        "PUT",
        API + R + "/assessments/{party}",
        "apprentice_a",
        lambda w: rating_json(w, 0),
        outsider="tutor_b",
    ),
    Case("PUT", API + R + "/agreed", "admin", lambda w: rating_json(w, 1), "apprentice_b"),
    Case(
        "POST",
        API + R + "/signatures",
        "apprentice_a",
        json_body(role="tutor", password=PASSWORD),
        outsider="tutor_b",
    ),
    Case(
        "POST", API + R + "/reopen", "tutor_a", json_body(reason="Erreur"), outsider="supervisor_b"
    ),
    Case("GET", API + R + "/verification", EVERY_PARTY),
    Case("GET", API + A + "/progress", EVERY_PARTY, outsider="tutor_b"),
    Case("GET", API + A + "/livret.pdf", EVERY_PARTY),
    # The school's set-up over the API (administrators)
    admin_case("GET", API + "/users/{user_id}", "tutor_a"),
    admin_case("PATCH", API + "/users/{user_id}", "tutor_a", json_body(full_name="Autre Nom")),
    admin_case("GET", API + "/cohorts/{cohort_id}", "supervisor_a"),
    admin_case("GET", API + "/organisations/{organisation_id}", "supervisor_a"),
    admin_case("PATCH", API + A + "/parties", "supervisor_a", parties_json),
    # The cohort's progress is for supervisors and admins: whoever follows no cohort gets 403
    # before any lookup; a follower who sees no row of it gets 404 (tests/school/test_api.py).
    Case("GET", API + "/cohorts/{cohort_id}/progress", "tutor_a", outsider_status=403),
    # Accounts (administrators only: everyone else gets 403 before any lookup)
    admin_case(
        "POST",
        API + "/users/{user_id}/deactivation",
        "tutor_a",
        json_body(confirm_apprenticeships=[]),
    ),
    admin_case("DELETE", API + "/users/{user_id}/deactivation", "supervisor_a"),
)

# Routes without a record in their path.
PUBLIC: Mapping[tuple[str, str], str] = {
    ("GET", "/healthz"): "liveness",
    ("GET", "/login"): "sign-in",
    ("POST", "/login"): "sign-in",
    ("POST", "/login/link"): "asks for a sign-in link; the answer never tells",
    ("GET", "/login/link/sent"): "sign-in",
    # The token is the credential: an unknown, used or expired one gets the same 400 page
    # (tests/people/test_signin_links.py).
    ("GET", "/login/link/{token}"): "sign-in link",
    ("POST", "/login/link/{token}"): "sign-in link",
    ("GET", "/password/forgot"): "forgot password",
    ("POST", "/password/forgot"): "asks for a reset link; the answer never tells",
    ("GET", "/password/forgot/sent"): "forgot password",
    # As for sign-in links, the token is the credential; used, expired and unknown ones get a
    # 400 page that says which (tests/people/test_invitations.py, test_password_reset.py).
    ("GET", "/password/reset/{token}"): "reset link",
    ("POST", "/password/reset/{token}"): "reset link",
    ("GET", "/invitation/{token}"): "invitation link",
    ("POST", "/invitation/{token}"): "invitation link",
    ("POST", "/invitation/{token}/link"): "invitation link",
    ("POST", "/invitation/{token}/renew"): "expired invitation link, throttled",
    ("GET", "/invitation/renewed"): "invitation",
    ("POST", "/logout"): "sign-out",
    ("POST", "/language"): "language switch",
    ("POST", "/api/v1/tokens"): "exchanges email and password for a token",
    ("GET", "/docs"): "API documentation",
    ("GET", "/openapi.json"): "API description",
    ("*", "/static"): "static files",
}
SIGNED_IN: Mapping[tuple[str, str], str] = {
    ("GET", "/"): "home",
    ("GET", "/dashboard"): "cohort dashboard, scoped by the actor",
    ("GET", "/dashboard.csv"): "the same as CSV",
    ("GET", "/exports/cohort-progress.csv"): "the dashboard's rows",
    ("GET", "/exports/assessments.csv"): "the dashboard's rows",
    ("GET", "/referentials"): "reference data",
    ("GET", API + "/certifications"): "reference data",
    ("GET", API + "/apprenticeships"): "the actor's apprenticeships",
    ("DELETE", API + "/tokens/current"): "the caller's own token",
    ("GET", API + "/me"): "the caller",
}
ADMIN_ONLY: Mapping[tuple[str, str], Body | None] = {
    ("GET", "/admin"): None,
    ("GET", "/admin/cohorts"): None,
    ("POST", "/admin/cohorts"): form(name="X", intake_year="2025"),
    ("GET", "/admin/users"): None,
    ("POST", "/admin/users"): form(email="new@test.example", full_name="New"),
    ("POST", "/admin/users/invitations"): None,
    ("GET", "/admin/apprenticeships"): None,
    ("GET", "/admin/apprenticeships/new"): None,
    ("POST", "/admin/apprenticeships"): form(apprentice_email="x@test.example"),
    ("GET", "/admin/import"): None,
    ("GET", "/admin/import/template.csv"): None,
    ("POST", "/admin/import"): upload("a.csv", b"apprentice_email\n", "text/csv"),
    ("POST", "/admin/import/confirm"): form(csv_text="apprentice_email\n"),
    ("POST", API + "/apprenticeships"): apprenticeship_json,
    ("POST", API + "/invitations"): json_body(user_ids=[1]),
    ("GET", API + "/users"): None,
    ("POST", API + "/users"): json_body(email="new@test.example", full_name="New"),
    ("GET", API + "/cohorts"): None,
    ("POST", API + "/cohorts"): json_body(name="X", intake_year=2025, certification_id=1),
    ("GET", API + "/organisations"): None,
    ("POST", API + "/organisations"): json_body(name="X", kind="company"),
    ("POST", API + "/imports"): csv_content,
}


# --- Walking the app --------------------------------------------------------------------------


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route the app serves: the endpoints, and what the app
    holds itself besides (the OpenAPI document, the static files' mount as ("*", its path))."""
    served = {(m, r.path) for r in api_routes(app) for m in r.methods - {"HEAD"}}
    for route in app.routes:
        path = getattr(route, "path", None)
        if path is not None and not hasattr(route, "dependant"):
            methods = set(getattr(route, "methods", None) or {"*"})
            served |= {(m, path) for m in methods - {"HEAD"} or methods}
    return served


def path_params(case: Case | tuple[str, str]) -> list[str]:
    path = case.path if isinstance(case, Case) else case[1]
    return [part.split("}")[0].split(":")[0] for part in path.split("{")[1:]]


def uncovered_routes(
    app: FastAPI,
    id_routes: Iterable[Case] = ID_ROUTES,
    without_record: Iterable[tuple[str, str]] = (*SIGNED_IN, *ADMIN_ONLY),
) -> list[str]:
    """Every route the tables do not account for, with what is missing."""
    table = {case.key for case in id_routes}
    known = table | set(PUBLIC) | set(without_record)
    problems = []
    for route in sorted(served_routes(app)):
        name = f"{route[0]} {route[1]}"
        if route not in known:
            problems.append(f"{name}: in no table of tests/test_route_access.py")
        elif route not in table | set(PUBLIC) and path_params(route):
            problems.append(f"{name}: has a path parameter but no entry in ID_ROUTES")
    return problems


def test_every_route_is_covered(app: FastAPI, world: World) -> None:
    assert uncovered_routes(app) == []
    tables = {c.key for c in ID_ROUTES} | {*PUBLIC, *SIGNED_IN, *ADMIN_ONLY}
    assert sorted(tables - served_routes(app)) == [], "entries for routes the app does not serve"
    unknown = {name for case in ID_ROUTES for name in path_params(case)} - set(world.params)
    assert unknown == set(), "path parameters the World cannot fill"


def test_the_walk_reports_an_uncovered_route(app: FastAPI) -> None:
    @app.get("/work-situations/{situation_id}/history")
    def history(situation_id: int) -> dict[str, int]:
        return {"id": situation_id}

    @app.post("/admin/purge")
    def purge() -> None:
        return None

    assert uncovered_routes(app) == [
        "GET /work-situations/{situation_id}/history: in no table of tests/test_route_access.py",
        "POST /admin/purge: in no table of tests/test_route_access.py",
    ]


def test_a_route_with_a_path_parameter_needs_an_entry_in_the_table(app: FastAPI) -> None:
    """Listing it among the routes without a record is not enough."""
    portfolio = ("GET", A)
    id_routes = [c for c in ID_ROUTES if c.key != portfolio]
    assert uncovered_routes(app, id_routes, [*SIGNED_IN, *ADMIN_ONLY, portfolio]) == [
        f"GET {A}: has a path parameter but no entry in ID_ROUTES"
    ]


# --- Sending a request as someone ------------------------------------------------------------


def sign_in(
    client: TestClient, db: Session, settings: Settings, user: User, case: Case
) -> dict[str, str]:
    """Headers for the API (a bearer token); for pages, a browser session (cookie)."""
    if case.api:
        client.cookies.clear()  # no ambient credential: the API call needs no CSRF token
        return bearer(db, user)
    token = auth_service.open_session(
        db, settings, user, ip="127.0.0.1", user_agent="pytest", method=case.session_method
    )
    db.flush()
    client.cookies.set(SESSION_COOKIE, token)
    return {}


def send(
    client: TestClient,
    settings: Settings,
    case: Case,
    world: World,
    headers: dict[str, str],
    values: Mapping[str, str] | None = None,
) -> Response:
    kwargs = case.body(world) if case.body else {}
    if not case.api and case.method != "GET":
        kwargs["data"] = {**kwargs.get("data", {}), "csrf_token": csrf_for(client, settings)}
    url = case.url(world.params if values is None else values)
    return client.request(case.method, url, headers=headers, **kwargs)


WRITTEN = (
    AuditEvent,
    OutboxMessage,
    User,
    Cohort,
    Apprenticeship,
    WorkSituation,
    Attachment,
    EnglishResult,
    MobilityPeriod,
    PartyAssessment,
    CompetencyRating,
    Signature,
    SignCode,
    LoginFailure,
)


def snapshot(db: Session, settings: Settings) -> dict[str, int]:
    """Row counts of what a request may write (every change is audited too), and stored files."""
    counts = {model.__name__: count_rows(db, model) for model in WRITTEN}
    directory = settings.attachments_dir
    counts["files"] = sum(1 for _ in directory.iterdir()) if directory.is_dir() else 0
    return counts


def _page(response: Response) -> str:
    """The answer, without its own address (pages link to it, e.g. the language switch)."""
    return response.text.replace(response.request.url.path, "{url}")


def _explain(response: Response) -> str:
    return f"{response.status_code} {response.headers.get('location', '')} {response.text[:300]}"


def cases(selected: Iterable[Case]) -> Any:
    return [pytest.param(case, id=str(case)) for case in selected]


# --- The checks -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases(c for c in ID_ROUTES if isinstance(c.outsider, str)))
def test_outsider_gets_404_on_every_id_route(
    client: TestClient, db: Session, settings: Settings, world: World, case: Case
) -> None:
    assert isinstance(case.outsider, str)
    headers = sign_in(client, db, settings, getattr(world.personas, case.outsider), case)
    before = snapshot(db, settings)
    response = send(client, settings, case, world, headers)
    assert response.status_code == case.outsider_status, _explain(response)
    missing = send(client, settings, case, world, headers, world.missing())
    assert missing.status_code == response.status_code, "a missing record answers otherwise"
    assert _page(missing) == _page(response), "a missing record answers otherwise"
    assert snapshot(db, settings) == before


def assert_refused_by_the_route(caplog: pytest.LogCaptureFixture) -> None:
    """A 403 from the CSRF check would prove nothing about the access rule."""
    assert not [r for r in caplog.records if r.getMessage().startswith("CSRF check failed")]


@pytest.mark.parametrize("case", cases(c for c in ID_ROUTES if isinstance(c.forbidden, str)))
def test_party_outside_its_role_gets_403(
    client: TestClient,
    db: Session,
    settings: Settings,
    world: World,
    case: Case,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert isinstance(case.forbidden, str)
    headers = sign_in(client, db, settings, getattr(world.personas, case.forbidden), case)
    before = snapshot(db, settings)
    response = send(client, settings, case, world, headers)
    assert response.status_code == 403, _explain(response)
    assert_refused_by_the_route(caplog)
    assert snapshot(db, settings) == before


def test_every_case_says_who_is_refused() -> None:
    """A case without an outsider or a forbidden party says why; a write always has one."""
    for case in ID_ROUTES:
        for who in (case.outsider, case.forbidden):
            assert (isinstance(who, Nobody) and who.reason) or who in Personas.__annotations__, case
        if case.method != "GET":
            assert isinstance(case.forbidden, str), f"{case}: a write refuses someone"


def test_the_table_points_at_real_records(
    client: TestClient, db: Session, settings: Settings, world: World
) -> None:
    """The admin sees every record: no read in the table answers them 404 (so an outsider's
    404 comes from the access check, not from a parameter pointing at nothing)."""
    admin = world.personas.admin
    wrong = []
    for case in ID_ROUTES:
        if case.method != "GET" or case.path.endswith("livret.pdf"):
            continue  # writes are proven by their 403; the PDF is slow and has its own tests
        response = send(client, settings, case, world, sign_in(client, db, settings, admin, case))
        if response.status_code in (404, 422):
            wrong.append(f"{case}: {response.status_code}")
    assert wrong == []


@pytest.mark.parametrize("route", [pytest.param(r, id=" ".join(r)) for r in ADMIN_ONLY])
def test_non_admin_gets_403_on_admin_routes_without_a_record(
    client: TestClient,
    db: Session,
    settings: Settings,
    world: World,
    route: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = Case(*route, forbidden="supervisor_a", body=ADMIN_ONLY[route])
    headers = sign_in(client, db, settings, world.personas.supervisor_a, case)
    before = snapshot(db, settings)
    response = send(client, settings, case, world, headers)
    assert response.status_code == 403, _explain(response)
    assert_refused_by_the_route(caplog)
    assert snapshot(db, settings) == before


def test_lists_show_nothing_of_another_apprenticeship(
    client: TestClient, db: Session, settings: Settings, world: World
) -> None:
    """Lists and exports are scoped by the actor: B's supervisor, in the same cohort, sees
    nothing of apprenticeship A."""
    apprentice = world.personas.apprentice_a
    leaks = []
    for method, path in SIGNED_IN:
        if method != "GET":
            continue
        case = Case(method, path, forbidden=Nobody("a list"))
        headers = sign_in(client, db, settings, world.personas.supervisor_b, case)
        response = send(client, settings, case, world, headers)
        if response.status_code != 200 or apprentice.full_name in response.text:
            leaks.append(f"{case}: {response.status_code}")
    assert leaks == []


COHORT_FOLLOWERS = (
    ("GET", "/dashboard"),
    ("GET", "/dashboard.csv"),
    ("GET", "/exports/cohort-progress.csv"),
    ("GET", "/exports/assessments.csv"),
)


@pytest.mark.parametrize("who", ["apprentice_a", "tutor_a"])
def test_apprentices_and_tutors_get_403_on_the_cohort_dashboard(
    client: TestClient, db: Session, settings: Settings, world: World, who: str
) -> None:
    """The dashboard and its exports are for supervisors and admins (still scoped in SQL)."""
    wrong = []
    for method, path in COHORT_FOLLOWERS:
        assert (method, path) in SIGNED_IN
        case = Case(method, path, forbidden=Nobody("a follower's list"))
        headers = sign_in(client, db, settings, getattr(world.personas, who), case)
        response = send(client, settings, case, world, headers)
        if response.status_code != 403:
            wrong.append(f"{case}: {response.status_code}")
    assert wrong == []


def test_anonymous_visitor_is_sent_to_sign_in(
    client: TestClient, settings: Settings, world: World
) -> None:
    """Pages redirect to the sign-in page, the API answers 401, before any lookup."""
    client.get("/login")  # the browser's CSRF cookie
    wrong = []
    anonymous = Nobody("anonymous")
    routes = [
        *ID_ROUTES,
        *(Case(m, p, anonymous) for m, p in SIGNED_IN),
        *(Case(m, p, anonymous, body) for (m, p), body in ADMIN_ONLY.items()),
    ]
    for case in routes:
        response = send(client, settings, case, world, {})
        expected = 401 if case.api else 303
        location = response.headers.get("location", "")
        if response.status_code != expected or (not case.api and not location.startswith("/login")):
            wrong.append(f"{case}: {response.status_code} {location}")
    assert wrong == []
