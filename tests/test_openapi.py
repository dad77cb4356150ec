"""The OpenAPI document tells the truth: every operation declares the errors it can answer,
each as a problem+json body of the documented ``Problem`` schema, and real answers match.

The first half reads the document (a new API route that declares no errors fails here); the
second calls the API and checks that what comes back is documented for its operation. The
``client`` fixture also checks every API answer of the whole suite the same way
(tests/openapi_contract.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from sqlalchemy.orm import Session

from app.config import Settings
from app.main import MAX_REQUEST_BYTES, create_app
from app.models import WorkSituation
from app.schemas.problem import PROBLEM_MEDIA_TYPE, PROBLEM_REF
from app.services.documents import storage
from app.services.journal import situations as journal
from tests.factories import PASSWORD, make_user
from tests.helpers import Personas, bearer, login_as, png_bytes
from tests.openapi_contract import Contract, routes

API = "/api/v1"
# Operations anyone may call: the health check, and exchanging a password for a token.
PUBLIC = {("get", "/healthz"), ("post", f"{API}/tokens")}
# Paths of the document outside the API.
OUTSIDE_API = {"/healthz"}
ERROR_STATUSES = {401, 403, 404, 409, 413, 422, 429}
UNSAFE_METHODS = {"post", "put", "patch", "delete"}
# POSTs that act on a record rather than create one answer 200; other POSTs create (201).
ACTIONS = {"submit", "acknowledge", "request-changes", "reopen", "deactivation"}
FILES = {
    ("get", f"{API}/apprenticeships/{{apprenticeship_id}}/livret.pdf"): {"application/pdf"},
    ("get", f"{API}/attachments/{{attachment_id}}"): set(storage.EXTENSIONS),
}


@pytest.fixture(scope="module")
def document_app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="module")
def document(document_app: FastAPI) -> dict[str, Any]:
    return document_app.openapi()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def _statuses(operation: dict[str, Any]) -> set[int]:
    return {int(code) for code in operation["responses"]}


def _parameters(operation: dict[str, Any], where: str) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == where]


def _missing(document: dict[str, Any], status: int, wanted: Any) -> list[str]:
    return [
        f"{method.upper()} {path}"
        for method, path, operation in _operations(document)
        if wanted(method, path, operation) and status not in _statuses(operation)
    ]


# --- The document -----------------------------------------------------------------------------


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_the_document_describes_the_api_and_the_health_check(document: dict[str, Any]) -> None:
    """Pages, forms and fragments answer HTML, errors included: they stay out."""
    assert {p for p in document["paths"] if not p.startswith(f"{API}/")} == OUTSIDE_API


def test_every_api_route_is_in_the_document(document_app: FastAPI, document) -> None:
    """A route under /api/ left out of the document (include_in_schema=False) would escape
    every check here."""
    api = [(method, path) for method, path, _ in routes(document_app) if path.startswith("/api/")]
    assert len(api) > 30
    assert [(m, p) for m, p in api if m not in document["paths"].get(p, {})] == []


def test_every_operation_documents_401_unless_public(document: dict[str, Any]) -> None:
    operations = {(method, path) for method, path, _ in _operations(document)}
    assert operations >= PUBLIC
    assert _missing(document, 401, lambda m, p, o: (m, p) not in PUBLIC) == []


def test_every_operation_with_a_path_parameter_documents_404(document: dict[str, Any]) -> None:
    assert _missing(document, 404, lambda m, p, o: _parameters(o, "path")) == []


def test_every_operation_with_a_parameter_or_a_body_documents_422(document) -> None:
    """A body, a path id or a query filter can be invalid; FastAPI answers 422 for them."""
    assert _missing(document, 422, lambda m, p, o: o.get("parameters") or "requestBody" in o) == []


def test_every_operation_with_a_body_documents_413(document: dict[str, Any]) -> None:
    """Every body is capped (app.main.BodySizeLimit; uploads have their own, lower cap)."""
    assert _missing(document, 413, lambda m, p, o: "requestBody" in o) == []


def test_every_state_changing_api_operation_documents_403(document: dict[str, Any]) -> None:
    """Called with a browser session cookie, a write needs its CSRF token (app.web.csrf)."""

    def unsafe(method: str, path: str, operation: dict[str, Any]) -> bool:
        return method in UNSAFE_METHODS and path.startswith(API)

    assert _missing(document, 403, unsafe) == []


def test_every_documented_error_is_a_problem(document: dict[str, Any]) -> None:
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
    wrong = {
        f"{method.upper()} {path} {status}": response.get("content")
        for method, path, operation in _operations(document)
        for status, response in operation["responses"].items()
        if 400 <= int(status) < 500
        and (int(status) not in ERROR_STATUSES or response.get("content") != problem)
    }
    assert wrong == {}
    schemas = document["components"]["schemas"]
    assert {"Problem", "ProblemFieldError"} <= set(schemas)
    assert not {"HTTPValidationError", "ValidationError"} & set(schemas)


def test_success_statuses(document: dict[str, Any]) -> None:
    def expected(method: str, path: str) -> set[int]:
        if method == "delete":
            return {204}
        if (method, path) == ("post", f"{API}/imports"):
            return {200, 201}  # ?dry_run=true reports and creates nothing
        if method == "post" and path.rsplit("/", 1)[-1] not in ACTIONS:
            return {201}
        if (method, path) == ("get", f"{API}/attachments/{{attachment_id}}"):
            return {200, 206}  # a Range request gets its part
        return {200}

    wrong = {
        f"{method.upper()} {path}": sorted(s for s in _statuses(operation) if s < 400)
        for method, path, operation in _operations(document)
        if {s for s in _statuses(operation) if s < 400} != expected(method, path)
    }
    assert wrong == {}


def test_success_media_types(document: dict[str, Any]) -> None:
    def media(operation: dict[str, Any], status: int) -> set[str]:
        return set(operation["responses"][str(status)].get("content", {}))

    wrong = {}
    for method, path, operation in _operations(document):
        for status in (s for s in _statuses(operation) if s < 300):
            expected = {"application/json"}
            if status == 204:
                expected = set()
            elif (method, path) in FILES:
                expected = FILES[method, path] | (
                    {"multipart/byteranges"} if status == 206 else set()
                )
            if media(operation, status) != expected:
                wrong[f"{method.upper()} {path} {status}"] = sorted(media(operation, status))
    assert wrong == {}


def test_the_health_check_documents_its_503(document: dict[str, Any]) -> None:
    responses = document["paths"]["/healthz"]["get"]["responses"]
    assert set(responses) == {"200", "503"}
    assert responses["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HealthRead"
    }


def test_a_route_added_without_its_errors_is_caught(settings: Settings) -> None:
    """Guard for the tests above: a new API route that declares nothing fails them."""
    app = create_app(settings)

    @app.get(f"{API}/apprenticeships/{{apprenticeship_id}}/scratch")
    def scratch(apprenticeship_id: int) -> dict[str, int]:
        return {}

    document = app.openapi()
    path = f"{API}/apprenticeships/{{apprenticeship_id}}/scratch"
    assert _missing(document, 401, lambda m, p, o: p == path) == [f"GET {path}"]
    assert _missing(document, 404, lambda m, p, o: p == path) == [f"GET {path}"]
    with pytest.raises(AssertionError):
        test_every_documented_error_is_a_problem(document)  # FastAPI's own 422


# --- The contract check itself ----------------------------------------------------------------


def _answer(status: int, body: Any, media_type: str = PROBLEM_MEDIA_TYPE) -> httpx.Response:
    request = httpx.Request("GET", f"http://testserver{API}/apprenticeships")
    return httpx.Response(status, json=body, headers={"content-type": media_type}, request=request)


@pytest.mark.parametrize(
    "answer",
    [
        _answer(404, {"type": "about:blank", "title": "x", "status": 404, "detail": "x"}),
        _answer(401, {"type": "about:blank", "title": "x", "status": 401}),
        _answer(401, {"type": "about:blank", "title": "x", "status": 401, "detail": "x", "a": 1}),
        _answer(401, {"title": "x", "status": 401, "detail": "x", "errors": [{"field": "f"}]}),
        _answer(401, {"type": "about:blank", "title": "x", "status": 401, "detail": "x"}, "a/b"),
        _answer(200, {"not": "a list"}, "application/json"),
    ],
    ids=["undocumented", "no-detail", "extra-member", "bad-item", "media-type", "bad-success"],
)
def test_the_contract_check_catches_what_the_document_does_not_promise(
    document: dict[str, Any], answer: httpx.Response
) -> None:
    """Guard for the checks below and for the client fixture's: they do fail."""
    with pytest.raises(AssertionError):
        Contract(document).check(answer)


# --- Real answers -----------------------------------------------------------------------------


def answered(client: TestClient, response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert ``response`` has ``status``, documented for its operation with its body
    matching the documented schema; return the body."""
    assert response.status_code == status, response.text
    contract = Contract.of(client.app)
    operation = contract.operation(response.request.method, response.url.path)
    assert operation is not None and status in operation.statuses
    contract.check(response)  # the client fixture does it too; this test does not rely on it
    is_json = response.headers.get("content-type", "").split(";")[0].endswith("json")
    return response.json() if is_json else {}


@pytest.fixture
def situation(db: Session, personas: Personas) -> WorkSituation:
    return journal.create_situation(
        db,
        personas.apprentice_a,
        personas.apprenticeship_a.id,
        journal.SituationInput(
            title="Gearbox housing",
            starts_on=date(2025, 10, 1),
            ends_on=date(2025, 10, 31),
            competency_codes=["RNCP39303BC01-C01"],
        ),
    )


def test_wrong_token_is_a_documented_401(client, personas) -> None:
    url = f"{API}/apprenticeships/{personas.apprenticeship_a.id}/progress"
    response = client.get(url, headers={"Authorization": "Bearer lvt_not-a-token"})
    assert answered(client, response, 401)["status"] == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_wrong_password_is_a_documented_401(client, db) -> None:
    user = make_user(db)
    response = client.post(f"{API}/tokens", json={"email": user.email, "password": "nope"})
    answered(client, response, 401)


def test_outsider_gets_documented_404s(client, db, personas, situation) -> None:
    headers = bearer(db, personas.outsider)
    appr = personas.apprenticeship_a.id
    for url in (
        f"{API}/apprenticeships/{appr}",
        f"{API}/apprenticeships/{appr}/progress",
        f"{API}/apprenticeships/{appr}/livret.pdf",
        f"{API}/apprenticeships/{appr}/reviews/1/verification",
        f"{API}/work-situations/{situation.id}",
    ):
        answered(client, client.get(url, headers=headers), 404)
    response = client.patch(
        f"{API}/work-situations/{situation.id}", json={"version": 1}, headers=headers
    )
    answered(client, response, 404)


def test_apprentice_on_a_tutor_endpoint_gets_a_documented_403(client, db, personas, situation):
    journal.submit(db, personas.apprentice_a, situation.id)
    response = client.post(
        f"{API}/work-situations/{situation.id}/acknowledge",
        json={"comment": "Fine"},
        headers=bearer(db, personas.apprentice_a),
    )
    answered(client, response, 403)


def test_browser_session_without_csrf_token_gets_a_documented_403(
    client, db, settings, personas, situation
) -> None:
    login_as(client, db, settings, personas.apprentice_a)
    answered(client, client.delete(f"{API}/tokens/current"), 403)
    answered(client, client.post(f"{API}/tokens", json={"email": "a@b.c", "password": "x"}), 403)
    # A form that cannot even be read carries no token either (not Starlette's plain 400).
    response = client.post(
        f"{API}/work-situations/{situation.id}/attachments",
        content=b"garbage",
        headers={"Content-Type": "multipart/form-data; boundary=zz"},
    )
    answered(client, response, 403)


def test_stale_version_is_a_documented_409(client, db, personas, situation) -> None:
    response = client.patch(
        f"{API}/work-situations/{situation.id}",
        json={"version": situation.version + 1, "title": "Late edit"},
        headers=bearer(db, personas.apprentice_a),
    )
    answered(client, response, 409)


def test_state_conflict_is_a_documented_409(client, db, personas, situation) -> None:
    journal.submit(db, personas.apprentice_a, situation.id)
    url = f"{API}/work-situations/{situation.id}/submit"
    answered(client, client.post(url, headers=bearer(db, personas.apprentice_a)), 409)


def test_schema_and_rule_violations_are_documented_422s_of_one_shape(client, db, personas):
    """The request validation handler and the domain handler list fields the same way."""
    headers = bearer(db, personas.apprentice_a)
    url = f"{API}/apprenticeships/{personas.apprenticeship_a.id}/mobility-periods"
    schema = answered(client, client.post(url, json={}, headers=headers), 422)
    assert {
        "field": "country",
        "code": "missing",
        "message": "Ce champ est obligatoire.",
    } in schema["errors"]
    body = {"country": "ZZ", "host": "TU Delft", "starts_on": "2025-02-01", "ends_on": "2025-06-30"}
    rule = answered(client, client.post(url, json=body, headers=headers), 422)
    assert rule["errors"] == [{"field": "country", "code": "invalid", "message": rule["detail"]}]
    answered(client, client.get(f"{API}/work-situations/0", headers=headers), 422)


def test_json_that_cannot_be_read_is_a_documented_422(client, db, personas) -> None:
    """Not UTF-8, or nested past what the parser takes: invalid JSON like any other (FastAPI
    alone would answer an undocumented 400)."""
    url = f"{API}/apprenticeships/{personas.apprenticeship_a.id}/mobility-periods"
    headers = {**bearer(db, personas.apprentice_a), "Content-Type": "application/json"}
    for content in (b'{"host": "\xff"}', b"[" * 100_000):
        body = answered(client, client.post(url, content=content, headers=headers), 422)
        assert [e["code"] for e in body["errors"]] == ["json_invalid"]


def test_throttled_login_is_a_documented_429(client, db) -> None:
    user = make_user(db)
    for _ in range(5):
        client.post(f"{API}/tokens", json={"email": user.email, "password": "nope"})
    response = client.post(f"{API}/tokens", json={"email": user.email, "password": PASSWORD})
    answered(client, response, 429)


def test_huge_bodies_are_documented_413s(client, db, personas) -> None:
    url = f"{API}/apprenticeships/{personas.apprenticeship_a.id}/work-situations"
    headers = {**bearer(db, personas.apprentice_a), "Content-Type": "application/json"}
    declared = client.post(url, content=b" " * (MAX_REQUEST_BYTES + 1), headers=headers)
    answered(client, declared, 413)

    def chunked() -> Iterator[bytes]:  # no Content-Length: refused as it arrives
        yield b'{"title": "'
        for _ in range(MAX_REQUEST_BYTES // 65536 + 1):
            yield b"a" * 65536
        yield b'"}'

    # FastAPI alone would turn the cap's error into an undocumented 400.
    answered(client, client.post(url, content=chunked(), headers=headers), 413)


def test_attachment_download_answers_ranges_or_the_whole_file(
    client, db, settings, personas, situation
) -> None:
    headers = bearer(db, personas.apprentice_a)
    uploaded = client.post(
        f"{API}/work-situations/{situation.id}/attachments",
        files={"file": ("dot.png", png_bytes(), "image/png")},
        headers=headers,
    )
    url = answered(client, uploaded, 201)["url"]
    part = client.get(url, headers={**headers, "Range": "bytes=0-7"})
    assert answered(client, part, 206) == {} and part.content == png_bytes()[:8]
    # A Range that cannot be served is ignored, not answered with a plain-text 400 or 416.
    for unservable in ("bytes=999999-", "pages=1", "bytes=5-2"):
        whole = client.get(url, headers={**headers, "Range": unservable})
        assert answered(client, whole, 200) == {} and whole.content == png_bytes()
