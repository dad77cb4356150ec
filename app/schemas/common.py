"""Shared schema pieces: the bases of every input model and the constrained scalar types.

Every string a request carries goes through :func:`app.services.validation.check_text`: the
input models (API bodies and HTML forms) check all their string fields, however nested, and
scalar parameters use :data:`SafeStr`. Every id or count is bounded by the database's integer
range (:data:`BodyId`, and the path and query types in :mod:`app.web.params`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.services import validation


def _no_forbidden_character(value: str) -> str:
    if validation.forbidden_character(value) is not None:
        raise PydanticCustomError("control_character", validation.CONTROL_CHARACTER)
    return value


# A string parameter (query, form field, path) that may hold no control character.
SafeStr = Annotated[str, AfterValidator(_no_forbidden_character)]
# An id or count sent in a body: positive and within the database's integer range.
BodyId = Annotated[int, Field(ge=1, le=validation.MAX_DB_INT)]
# A record's version (optimistic concurrency), as the client last read it.
Version = Annotated[int, Field(ge=0, le=validation.MAX_DB_INT)]


class CheckedInput(BaseModel):
    """Refuses any string field (nested ones included) holding a control character."""

    @field_validator("*", mode="after")
    @classmethod
    def _strings_are_text(cls, value: Any, info: ValidationInfo) -> Any:
        for _path, found in validation.iter_strings(value):
            _no_forbidden_character(found)
        return value


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class WriteModel(CheckedInput):
    """Inputs refuse unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FormModel(CheckedInput):
    """An HTML form's fields (the CSRF token and other extra fields are ignored)."""
