"""People schemas."""

from __future__ import annotations

from app.models import Party
from app.schemas.common import ReadModel


class RoleRead(ReadModel):
    apprenticeship_id: int
    roles: list[Party]


class MeRead(ReadModel):
    """The caller, and what they are to each apprenticeship they take part in."""

    id: int
    email: str
    full_name: str
    locale: str
    is_admin: bool
    apprenticeships: list[RoleRead]
