"""Problem details (RFC 9457): the body of every API error.

:func:`app.errors.problem_response` builds its JSON body from :class:`Problem`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"


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
