"""The OpenAPI document as a contract: find the operation a request went to, and check that a
real answer is one the document promises: its status, its media type, and its JSON body
against the documented schema (the Problem schema for errors).

The ``client`` fixture runs :func:`check_answer` on every answer it receives, so every API
call in the suite also checks the document; ``tests/test_openapi.py`` adds targeted cases."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from jsonschema import Draft202012Validator

PROBLEM = "application/problem+json"
# Where the document has paths (tests/test_openapi.py holds it to that): other answers are
# skipped without generating the document.
DOCUMENTED_PREFIXES = ("/api/", "/healthz")
_CACHE: dict[tuple[Any, ...], Contract] = {}


def routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    """``(method, path, endpoint)`` of every FastAPI route of ``app``, included routers
    flattened (FastAPI 0.16x includes routers whole, so ``app.routes`` holds the routers)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies the included routes into app.routes
        found: list[Any] = list(app.routes)
    else:
        found = list(iter_route_contexts(app.routes))
    return [
        (method.lower(), route.path, route.endpoint)
        for route in found
        if isinstance(getattr(route, "original_route", route), APIRoute)
        for method in route.methods
    ]


@dataclass
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def statuses(self) -> set[int]:
        return {int(code) for code in self.spec.get("responses", {})}

    def response(self, status: int) -> dict[str, Any]:
        responses: dict[str, Any] = self.spec["responses"]
        return responses[str(status)]  # type: ignore[no-any-return]


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile(
        "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    )


@dataclass
class Contract:
    document: dict[str, Any]
    _paths: list[tuple[re.Pattern[str], str]] = field(init=False)

    def __post_init__(self) -> None:
        self._paths = [(_pattern(path), path) for path in self.document["paths"]]

    @classmethod
    def of(cls, app: FastAPI) -> Contract:
        """The contract of ``app``; apps built from the same routes share one (generating
        the document takes a quarter of a second, and each test builds its own app)."""
        key = tuple(sorted(routes(app), key=repr))
        if key not in _CACHE:
            _CACHE[key] = cls(app.openapi())
        return _CACHE[key]

    def operation(self, method: str, path: str) -> Operation | None:
        """The documented operation serving ``method path`` (a concrete URL path), if any."""
        templates = [template for pattern, template in self._paths if pattern.fullmatch(path)]
        assert len(templates) <= 1, f"{path} matches several documented paths: {templates}"
        if not templates:
            return None
        spec = self.document["paths"][templates[0]].get(method.lower())
        return Operation(method.lower(), templates[0], spec) if spec else None

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        """A validator for a schema of the document (its ``$ref`` resolve in the document)."""
        return Draft202012Validator({**schema, "components": self.document["components"]})

    def check(self, response: httpx.Response) -> None:
        """Fail unless ``response`` is one the document promises for its operation. Answers
        to undocumented paths (pages, unknown URLs) and 5xx are not checked."""
        request = response.request
        operation = self.operation(request.method, request.url.path)
        if operation is None or response.status_code >= 500:
            return
        where = f"{request.method} {request.url.path} answered {response.status_code}"
        assert response.status_code in operation.statuses, (
            f"{where}, which {operation.method.upper()} {operation.path} does not document "
            f"(it documents {sorted(operation.statuses)}): {response.text[:300]}"
        )
        documented = operation.response(response.status_code).get("content", {})
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if not response.content and not media_type:
            assert not documented, f"{where} without a body; the document promises {documented}"
            return
        assert media_type in documented, (
            f"{where} as {media_type!r}; the document promises {sorted(documented)}"
        )
        schema = documented[media_type].get("schema")
        if schema is not None and media_type.endswith("json"):
            errors = list(self.validator(schema).iter_errors(response.json()))
            assert not errors, f"{where}; its body breaks the documented schema: " + "; ".join(
                f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]
            )


def check_answer(app: FastAPI, response: httpx.Response) -> None:
    """A test client's response hook: check answers to documented paths against the document."""
    if response.request.url.path.startswith(DOCUMENTED_PREFIXES):
        response.read()
        Contract.of(app).check(response)
