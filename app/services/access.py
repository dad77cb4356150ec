"""Who may see and do what. Every page and API route goes through these predicates.

Lookups that fail the view check raise ``NotFound`` (an outsider learns nothing, not even that
the record exists); visible-but-forbidden actions raise ``Forbidden``. List queries are scoped
in SQL with :func:`visible_apprenticeships_filter`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import LoaderOption

from app.i18n import N_
from app.models import Apprenticeship, Party, User
from app.services.errors import Forbidden, NotFound


def roles_of(actor: User, apprenticeship: Apprenticeship) -> set[Party]:
    roles: set[Party] = set()
    if apprenticeship.apprentice_id == actor.id:
        roles.add(Party.APPRENTICE)
    if apprenticeship.tutor_id == actor.id:
        roles.add(Party.TUTOR)
    if apprenticeship.supervisor_id == actor.id:
        roles.add(Party.SUPERVISOR)
    return roles


def can_view(actor: User, apprenticeship: Apprenticeship) -> bool:
    return actor.is_admin or bool(roles_of(actor, apprenticeship))


def can_act_as(actor: User, apprenticeship: Apprenticeship, party: Party) -> bool:
    """Whether the actor holds ``party`` on this apprenticeship (admins hold no party)."""
    return party in roles_of(actor, apprenticeship)


def can_administer(actor: User) -> bool:
    return actor.is_admin and actor.is_active


def supervises_any(user_id: Any) -> ColumnElement[bool]:
    """SQL: whether the user (an id or an id column) supervises at least one apprenticeship."""
    return exists().where(Apprenticeship.supervisor_id == user_id)


def may_follow_cohorts(actor: User, *, supervises: bool) -> bool:
    """Cohort dashboards and their exports are for academic supervisors and administrators."""
    return actor.is_admin or (actor.is_active and supervises)


def require_cohort_follower(actor: User, *, supervises: bool) -> None:
    if not may_follow_cohorts(actor, supervises=supervises):
        raise Forbidden("Only academic supervisors and administrators follow cohorts.")


def visible_apprenticeships_filter(actor: User) -> ColumnElement[bool]:
    """SQL condition selecting the apprenticeships ``actor`` may see."""
    if actor.is_admin:
        return true()
    if not actor.is_active:
        return false()
    return or_(
        Apprenticeship.apprentice_id == actor.id,
        Apprenticeship.tutor_id == actor.id,
        Apprenticeship.supervisor_id == actor.id,
    )


def get_visible_apprenticeship(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    options: Sequence[LoaderOption] = (),
) -> Apprenticeship:
    """Load one apprenticeship the actor may see, or raise NotFound."""
    stmt: Any = (
        select(Apprenticeship)
        .where(Apprenticeship.id == apprenticeship_id)
        .where(visible_apprenticeships_filter(actor))
        .options(*options)
    )
    apprenticeship = session.scalars(stmt).one_or_none()
    if apprenticeship is None:
        raise NotFound("No such apprenticeship.")
    return apprenticeship


_PARTY_ONLY = {
    Party.APPRENTICE: N_("Only the apprentice may do this."),
    Party.TUTOR: N_("Only the company tutor may do this."),
    Party.SUPERVISOR: N_("Only the academic supervisor may do this."),
}


def require_party(actor: User, apprenticeship: Apprenticeship, party: Party) -> None:
    """Raise Forbidden unless the actor holds ``party`` (the record is already visible)."""
    if not can_act_as(actor, apprenticeship, party):
        raise Forbidden(_PARTY_ONLY[party])


def require_admin(actor: User) -> None:
    if not can_administer(actor):
        raise Forbidden("Only an administrator may do this.")
