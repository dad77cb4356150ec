"""Evidence for the degree's other conditions: English test results and international mobility.

The apprentice records them (an administrator may too, e.g. from a scanned certificate);
everyone who can see the apprenticeship can list them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from babel import Locale
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.i18n import N_
from app.models import CEFR_LEVELS, Apprenticeship, EnglishResult, MobilityPeriod, Party, User
from app.services import audit, validation
from app.services.access import (
    can_act_as,
    can_administer,
    get_visible_apprenticeship,
    visible_apprenticeships_filter,
)
from app.services.degree_conditions.rules import HOST_MAX, SCORE_MAX, TEST_NAME_MAX
from app.services.errors import Forbidden, NotFound
from app.services.validation import Collector

# Codes CLDR lists among territories that are not assigned ISO 3166-1 alpha-2 countries:
# groupings, exceptional reservations and pseudo-locales. XK (Kosovo) is kept: it is the
# user-assigned code everyone uses.
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (from the CLDR data Babel ships)."""
    territories = Locale("en").territories
    codes = {code for code in territories if isinstance(code, str)}
    return frozenset(c for c in codes if len(c) == 2 and c.isalpha()) - _NOT_COUNTRIES


@dataclass(frozen=True)
class EnglishResultInput:
    test_name: str
    score: str
    cefr_level: str
    taken_on: date


@dataclass(frozen=True)
class MobilityInput:
    country: str
    host: str
    starts_on: date
    ends_on: date


def require_apprentice_or_admin(actor: User, appr: Apprenticeship) -> None:
    if not (can_act_as(actor, appr, Party.APPRENTICE) or can_administer(actor)):
        raise Forbidden("Only the apprentice or an administrator may do this.")


def require_recorder(session: Session, actor: User, apprenticeship_id: int) -> Apprenticeship:
    """The apprenticeship, if ``actor`` may record its evidence (404 unseen, 403 not theirs)."""
    appr = get_visible_apprenticeship(session, actor, apprenticeship_id)
    require_apprentice_or_admin(actor, appr)
    return appr


def _required_text(field: str, value: str, limit: int) -> str:
    return validation.text(
        field,
        value,
        max_length=limit,
        required=True,
        required_message=N_("Fill in every required field."),
        too_long_message=N_("This field must have at most {n} characters."),
    )


# --- English results --------------------------------------------------------------------------


def english_result_summary(result: EnglishResult) -> dict[str, Any]:
    return {
        "test_name": result.test_name,
        "score": result.score,
        "cefr_level": result.cefr_level,
        "taken_on": result.taken_on.isoformat(),
    }


def list_english_results(
    session: Session, actor: User, apprenticeship_id: int
) -> Sequence[EnglishResult]:
    appr = get_visible_apprenticeship(session, actor, apprenticeship_id)
    return session.scalars(
        select(EnglishResult)
        .where(EnglishResult.apprenticeship_id == appr.id)
        .options(selectinload(EnglishResult.attachments))
        .order_by(EnglishResult.taken_on.desc(), EnglishResult.id.desc())
    ).all()


def get_english_result(
    session: Session, actor: User, result_id: int, *, for_update: bool = False
) -> tuple[EnglishResult, Apprenticeship]:
    """One result the actor may see, with its apprenticeship, or NotFound."""
    stmt = (
        select(EnglishResult, Apprenticeship)
        .join(Apprenticeship, Apprenticeship.id == EnglishResult.apprenticeship_id)
        .where(EnglishResult.id == result_id)
        .where(visible_apprenticeships_filter(actor))
        .options(selectinload(EnglishResult.attachments))
    )
    if for_update:
        stmt = stmt.with_for_update(of=EnglishResult).execution_options(populate_existing=True)
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise NotFound("No such English result.")
    return row[0], row[1]


def create_english_result(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    data: EnglishResultInput,
    *,
    ip: str | None = None,
) -> EnglishResult:
    appr = require_recorder(session, actor, apprenticeship_id)
    errors = Collector()
    test_name = errors.check(
        "test_name", lambda: _required_text("test_name", data.test_name, TEST_NAME_MAX)
    )
    score = errors.check("score", lambda: _required_text("score", data.score, SCORE_MAX))
    level = data.cefr_level.strip().upper()
    if level not in CEFR_LEVELS:
        errors.add("cefr_level", N_("The CEFR level must be one of A1, A2, B1, B2, C1, C2."))
    if data.taken_on > date.today():
        errors.add("taken_on", N_("The test date cannot be in the future."))
    errors.raise_if_any()
    assert test_name is not None and score is not None
    result = EnglishResult(
        apprenticeship_id=appr.id,
        test_name=test_name,
        score=score,
        cefr_level=level,
        taken_on=data.taken_on,
        attachments=[],
    )
    session.add(result)
    session.flush()
    audit.record(
        session,
        "english_result.create",
        actor=actor,
        entity_type="english_result",
        entity_id=result.id,
        details={"apprenticeship_id": appr.id, "after": english_result_summary(result)},
        ip=ip,
    )
    return result


# --- Mobility ---------------------------------------------------------------------------------


def mobility_summary(period: MobilityPeriod) -> dict[str, Any]:
    return {
        "country": period.country,
        "host": period.host,
        "starts_on": period.starts_on.isoformat(),
        "ends_on": period.ends_on.isoformat(),
    }


def list_mobility_periods(
    session: Session, actor: User, apprenticeship_id: int
) -> Sequence[MobilityPeriod]:
    appr = get_visible_apprenticeship(session, actor, apprenticeship_id)
    return session.scalars(
        select(MobilityPeriod)
        .where(MobilityPeriod.apprenticeship_id == appr.id)
        .order_by(MobilityPeriod.starts_on, MobilityPeriod.id)
    ).all()


def create_mobility_period(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    data: MobilityInput,
    *,
    ip: str | None = None,
) -> MobilityPeriod:
    appr = require_recorder(session, actor, apprenticeship_id)
    errors = Collector()
    country = data.country.strip().upper()
    if country not in country_codes():
        errors.add(
            "country", N_("Give the country as an ISO 3166 two-letter code, such as DE or CA.")
        )
    host = errors.check("host", lambda: _required_text("host", data.host, HOST_MAX))
    if data.ends_on < data.starts_on:
        errors.add("ends_on", N_("The end date must be on or after the start date."))
    errors.raise_if_any()
    assert host is not None
    period = MobilityPeriod(
        apprenticeship_id=appr.id,
        country=country,
        host=host,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
    )
    session.add(period)
    session.flush()
    audit.record(
        session,
        "mobility_period.create",
        actor=actor,
        entity_type="mobility_period",
        entity_id=period.id,
        details={"apprenticeship_id": appr.id, "after": mobility_summary(period)},
        ip=ip,
    )
    return period
