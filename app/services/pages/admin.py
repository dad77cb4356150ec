"""The administration area's home: how many of everything there is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    Apprenticeship,
    Cohort,
    Organisation,
    OrganisationKind,
    User,
)
from app.services.access import require_admin


@dataclass(frozen=True)
class Overview:
    cohorts: int
    users: int
    active_users: int
    apprenticeships: int
    companies: int


def overview(session: Session, actor: User) -> Overview:
    require_admin(actor)

    def count(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    return Overview(
        cohorts=count(select(func.count(Cohort.id))),
        users=count(select(func.count(User.id))),
        active_users=count(select(func.count(User.id)).where(User.is_active.is_(True))),
        apprenticeships=count(select(func.count(Apprenticeship.id))),
        companies=count(
            select(func.count(Organisation.id)).where(Organisation.kind == OrganisationKind.COMPANY)
        ),
    )
