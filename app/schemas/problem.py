"""Problem details (RFC 9457): the body of every API error, and how an operation documents
the errors it can answer.

:func:`app.errors.problem_response` builds its JSON body from :class:`Problem`, and routes
declare their error statuses with :func:`problem_responses`, so what the API sends and what
the OpenAPI document promises come from the same model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
_REF_TEMPLATE = "#/components/schemas/{model}"
PROBLEM_REF = _REF_TEMPLATE.format(model="Problem")


class ProblemFieldError(BaseModel):
    """One field at fault."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(
        description="The field: a body field (dotted when nested, such as `ratings.0.level`), "
        "`path.<name>` or `query.<name>` for a parameter, `file` for an upload, or empty for "
        "the body as a whole."
    )
    code: str = Field(
        description="Why, for programs: the rule's code (`required`, `too_long`, `unknown`, "
        "`before_start`…), or Pydantic's error type (`missing`, `string_too_long`…) when the "
        "request does not match its schema."
    )
    message: str = Field(description="Why, for people.")


class Problem(BaseModel):
    """What went wrong (RFC 9457 problem details), sent as `application/problem+json`."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(
        description="Always `about:blank`: `status` and `title` say what went wrong.",
        examples=["about:blank"],
    )
    title: str = Field(description="The status in words, in the caller's language.")
    status: int = Field(description="The HTTP status code.", examples=[404])
    detail: str = Field(description="What went wrong, in the caller's language.")
    errors: list[ProblemFieldError] = Field(
        default_factory=list,
        description="The fields at fault, when the problem is about fields; absent otherwise.",
    )

    def body(self) -> dict[str, Any]:
        """The JSON body: ``errors`` is left out when there are none."""
        return self.model_dump(mode="json", exclude=None if self.errors else {"errors"})


# What each error status means in this API. An operation lists the ones it can answer.
PROBLEM_STATUSES: dict[int, str] = {
    401: "Not authenticated: no bearer token or session, or one that is invalid, expired or "
    "revoked.",
    403: "Not allowed: the caller lacks the role this action needs, or a call made with a "
    "browser session cookie lacks its CSRF token (X-CSRF-Token).",
    404: "No such record, or one the caller may not see.",
    409: "Conflict: the record changed since it was read (stale version), or its state does "
    "not allow this change.",
    413: "The request body is too large.",
    422: "Invalid input; `errors` lists the fields at fault.",
    429: "Too many failed attempts for this account; wait, then try again.",
}


def problem_responses(
    *statuses: int, notes: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of an operation that can answer these error statuses, each with a
    :class:`Problem` body. ``notes`` replaces a status's description where it means something
    more precise for this operation."""
    notes = notes or {}
    unknown = sorted((set(statuses) | set(notes)) - set(PROBLEM_STATUSES))
    if unknown:
        raise ValueError(f"No problem description for status {unknown}")
    responses: dict[int | str, dict[str, Any]] = {}
    for status in sorted(statuses):
        response: dict[str, Any] = {
            "description": notes.get(status, PROBLEM_STATUSES[status]),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
        }
        if status == 401:
            response["headers"] = {
                "WWW-Authenticate": {
                    "description": "`Bearer`: the API takes a bearer token.",
                    "schema": {"type": "string"},
                }
            }
        responses[status] = response
    return responses


def problem_schemas() -> dict[str, Any]:
    """The components the problem responses refer to: ``Problem`` and what it nests."""
    schema = Problem.model_json_schema(ref_template=_REF_TEMPLATE)
    nested = schema.pop("$defs", {})
    return {**nested, "Problem": schema}


def document_problems(app: FastAPI) -> None:
    """Give ``app.openapi()`` the ``Problem`` schema the problem responses refer to.

    FastAPI only collects the models of bodies and of ``model=`` responses, and it files a
    ``model=`` response under the route's own media type (``application/json``), so the
    components are added once the document is generated (FastAPI's "extending OpenAPI"
    recipe)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            components = document.setdefault("components", {}).setdefault("schemas", {})
            components.update(problem_schemas())
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
