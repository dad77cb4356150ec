"""Deactivating an account over the API: how the apprenticeships it takes part in are settled."""

from __future__ import annotations

from pydantic import Field

from app.schemas.common import BodyId, WriteModel
from app.services.people.rules import EMAIL_MAX


class ReplacementIn(WriteModel):
    """The new tutor or supervisor of one apprenticeship, in place of the person deactivated."""

    apprenticeship_id: BodyId
    email: str = Field(max_length=EMAIL_MAX, description="The replacement's account (active).")


class DeactivationCreate(WriteModel):
    """Every active apprenticeship the person takes part in is either given a replacement or
    listed in ``confirm_apprenticeships`` (exactly those): otherwise 409 names them."""

    confirm_apprenticeships: list[BodyId] = Field(
        default_factory=list,
        max_length=1000,
        description="The active apprenticeships that stay without this person, as confirmed.",
    )
    replacements: list[ReplacementIn] = Field(default_factory=list, max_length=1000)
