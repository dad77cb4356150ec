"""Inputs that never cause a 500: every parameter of every route is bounded, and the requests
that used to fail answer 4xx with a message, on SQLite and PostgreSQL."""

from __future__ import annotations

import types
import typing
from typing import Any

import pytest
from annotated_types import Le
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.config import Settings
from app.schemas.common import CheckedInput
from app.services import validation
from tests.helpers import Personas, bearer, login_as, post_form
from tests.routes import api_routes, parameters

API = "/api/v1"
TOO_BIG = 2**31  # one past PostgreSQL's int4
HUGE = 2**65  # past SQLite's 64-bit integers


# --- Every parameter is bounded ---------------------------------------------------------------


def _base_types(annotation: Any) -> list[Any]:
    """The concrete types behind Optional[...], Annotated[...] and unions."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _base_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _base_types(arg)]
    if origin in (list, tuple, set, frozenset):
        return [t for arg in typing.get_args(annotation) for t in _base_types(arg)]
    return [annotation]


def _metadata(annotation: Any) -> list[Any]:
    """The constraints attached to ``annotation`` at any depth (``Annotated[int, ...] | None``)."""
    found = []
    if typing.get_origin(annotation) is typing.Annotated:
        for item in annotation.__metadata__:
            found.extend([item, *getattr(item, "metadata", ())])
    for arg in typing.get_args(annotation):
        found.extend(_metadata(arg))
    return found


def _checked_text(field: Any) -> bool:
    return "_no_forbidden_character" in repr(field.annotation) + repr(field.metadata)


def _bounded_int(field: Any) -> bool:
    constraints = [*field.metadata, *_metadata(field.annotation)]
    bounds = [m.le for m in constraints if isinstance(m, Le)]
    return bool(bounds) and all(b <= validation.MAX_DB_INT for b in bounds)


def _model_problems(model: type[BaseModel], where: str) -> list[str]:
    problems = []
    if not issubclass(model, CheckedInput):
        problems.append(f"{where}: {model.__name__} does not check its strings (CheckedInput)")
    for name, field in model.model_fields.items():
        for base in _base_types(field.annotation):
            if base is int and not _bounded_int(field):
                problems.append(f"{where}: {model.__name__}.{name} is an unbounded int")
            elif isinstance(base, type) and issubclass(base, BaseModel):
                problems.extend(_model_problems(base, where))
    return problems


def _parameter_problems(app: FastAPI) -> list[str]:
    problems = []
    for route in api_routes(app):
        for kind, param in parameters(route.dependant):
            where = f"{sorted(route.methods)} {route.path} {kind} {param.name}"
            field = param.field_info
            for base in _base_types(field.annotation):
                if base is str and not _checked_text(field):
                    problems.append(f"{where}: str without the control-character check")
                elif base is int and not _bounded_int(field):
                    problems.append(f"{where}: int without an upper bound in the database range")
                elif isinstance(base, type) and issubclass(base, BaseModel):
                    problems.extend(_model_problems(base, where))
    return problems


def test_every_parameter_of_every_route_is_checked(app: FastAPI) -> None:
    """Strings refuse control characters, integers fit the database, body models check both:
    a new route or field that forgets fails here."""
    assert _parameter_problems(app) == []


class Loose(BaseModel):
    count: int


def test_the_parameter_walk_finds_an_unchecked_parameter(app: FastAPI) -> None:
    """Guard for the test above."""

    @app.get("/__probe/{thing_id}")
    def probe(thing_id: int, q: str, body: Loose) -> None: ...

    problems = _parameter_problems(app)
    assert any("/__probe/{thing_id} path thing_id" in p for p in problems)
    assert any("/__probe/{thing_id} query q" in p for p in problems)
    assert any("Loose does not check its strings" in p for p in problems)
    assert any("Loose.count is an unbounded int" in p for p in problems)


# --- Ids beyond the database's range ----------------------------------------------------------


@pytest.mark.parametrize("value", [TOO_BIG, HUGE])
def test_ids_beyond_the_integer_range_answer_4xx_on_paths(
    client: TestClient, db: Session, personas: Personas, value: int
) -> None:
    headers = bearer(db, personas.admin)
    for url in (
        f"{API}/apprenticeships/{value}",
        f"{API}/apprenticeships/{value}/reviews/1",
        f"{API}/work-situations/{value}",
        f"{API}/attachments/{value}",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code in (404, 422), url
        assert response.json()["detail"]


@pytest.mark.parametrize("value", [TOO_BIG, HUGE])
def test_ids_beyond_the_integer_range_answer_4xx_on_pages_and_queries(
    client: TestClient, db: Session, settings: Settings, personas: Personas, value: int
) -> None:
    login_as(client, db, settings, personas.admin)
    assert client.get(f"/admin/users/{value}").status_code in (404, 422)
    assert client.get(f"/dashboard?cohort={value}").status_code in (200, 404, 422)
    response = post_form(client, settings, f"/admin/users/{value}/deactivate")
    assert response.status_code in (404, 422)


def test_ids_beyond_the_integer_range_answer_422_in_bodies(
    client: TestClient, db: Session, personas: Personas
) -> None:
    p = personas
    body = {
        "apprentice_id": TOO_BIG,
        "tutor_id": p.tutor_a.id,
        "supervisor_id": p.supervisor_a.id,
        "company_id": TOO_BIG,
        "cohort_id": HUGE,
        "starts_on": "2026-09-01",
        "ends_on": "2029-08-31",
    }
    response = client.post(f"{API}/apprenticeships", json=body, headers=bearer(db, p.admin))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {"apprentice_id", "cohort_id"}
    url = f"{API}/apprenticeships/{p.apprenticeship_a.id}/reviews/1/assessments/tutor"
    ratings = {"version": 0, "ratings": [{"competency_id": HUGE, "level": 2}]}
    assert client.put(url, json=ratings, headers=bearer(db, p.tutor_a)).status_code == 422


# --- Control characters -----------------------------------------------------------------------

CONTROL = ["\x00", "\x07", "\x1b", "\x7f", "\x85"]


@pytest.mark.parametrize("char", CONTROL)
def test_control_characters_in_api_bodies_answer_422_with_a_message(
    client: TestClient, db: Session, personas: Personas, char: str
) -> None:
    p = personas
    url = f"{API}/apprenticeships/{p.apprenticeship_a.id}/reviews/1/assessments/tutor"
    body = {"version": 0, "ratings": [], "general_comment": f"bi{char}en"}
    response = client.put(url, json=body, headers=bearer(db, p.tutor_a))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "general_comment"
    assert error["message"] == "Le texte contient un caractère non autorisé."
    token = client.post(
        f"{API}/tokens",
        json={"email": p.tutor_a.email, "password": "x", "name": f"lap{char}top"},
    )
    assert token.status_code == 422


def test_a_nul_in_the_login_form_answers_422_and_opens_no_session(
    client: TestClient, settings: Settings
) -> None:
    client.get("/login")
    response = post_form(client, settings, "/login", {"email": "\x00@x.example", "password": "x"})
    assert response.status_code == 422
    assert "livret_session" not in response.cookies


def test_a_nul_in_a_query_string_answers_422(
    client: TestClient, db: Session, settings: Settings, personas: Personas
) -> None:
    p = personas
    login_as(client, db, settings, p.apprentice_a)
    response = client.get(f"/apprenticeships/{p.apprenticeship_a.id}/journal?q=%00")
    assert response.status_code == 422
    assert "caractère non autorisé" in response.text
    api = client.get(
        f"{API}/apprenticeships/{p.apprenticeship_a.id}/work-situations?block=%00",
        headers=bearer(db, p.apprentice_a),
    )
    assert api.status_code == 422


def test_a_control_character_in_a_review_comment_form_answers_422(
    client: TestClient, db: Session, settings: Settings, personas: Personas
) -> None:
    p = personas
    login_as(client, db, settings, p.tutor_a)
    client.get("/")
    url = f"/apprenticeships/{p.apprenticeship_a.id}/reviews/1/assessments/tutor/comment"
    response = post_form(client, settings, url, {"version": "0", "text": "a\x00b"})
    assert response.status_code == 422


def test_the_text_rule_is_one_function() -> None:
    assert validation.forbidden_character("ok\ttab\nline\r\n") is None
    assert validation.forbidden_character("bell\x07") == "\x07"
    assert validation.forbidden_character("lone \ud800 surrogate") == "\ud800"
    with pytest.raises(validation.FieldErrors) as caught:
        validation.text("title", "a\x00", max_length=10)
    assert caught.value.messages == {"title": (validation.CONTROL_CHARACTER, {})}


# --- Levels are ASCII digits ------------------------------------------------------------------


@pytest.mark.parametrize("level", ["²", "١", "٣", "1.5", "-1", "1e1"])
def test_rating_levels_accept_only_ascii_digits(
    client: TestClient, db: Session, settings: Settings, personas: Personas, level: str
) -> None:
    p = personas
    login_as(client, db, settings, p.tutor_a)
    client.get("/")
    competency_id = _first_competency(db, p)
    url = (
        f"/apprenticeships/{p.apprenticeship_a.id}/reviews/1/assessments/tutor/ratings/"
        f"{competency_id}"
    )
    response = post_form(client, settings, url, {"version": "0", "level": level})
    assert response.status_code == 422, level


def _first_competency(db: Session, p: Personas) -> int:
    from app.services.referentials.views import referential_for

    return referential_for(db, p.apprenticeship_a.cohort.certification).competencies[0].id


def test_ascii_int_reads_only_ascii_digits() -> None:
    assert validation.ascii_int("12") == 12
    assert validation.ascii_int(" 3 ") == 3
    assert validation.ascii_int("²") is None
    assert validation.ascii_int("١") is None
    assert validation.ascii_int("9" * 20) is None


# --- Cache and cookies ------------------------------------------------------------------------


def test_pages_with_personal_data_are_not_stored_by_caches(
    client: TestClient, db: Session, settings: Settings, personas: Personas
) -> None:
    p = personas
    login_as(client, db, settings, p.apprentice_a)
    for url in ("/", f"/apprenticeships/{p.apprenticeship_a.id}", "/login"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url
    api = client.get(f"{API}/apprenticeships", headers=bearer(db, p.apprentice_a))
    assert api.headers["Cache-Control"] == "no-store"
    static = client.get("/static/css/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


def test_production_session_cookie_uses_the_host_prefix(tmp_path: Any) -> None:
    from app.web.csrf import session_cookie_name

    production = Settings(
        environment="production",
        secret_key="x" * 40,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path}/p.db",
    )
    development = Settings(environment="development", data_dir=tmp_path)
    assert session_cookie_name(production) == "__Host-livret_session"
    assert session_cookie_name(development) == "livret_session"
