"""The work-situation journal: what the apprentice did in the company, offered as evidence.

Lifecycle (a small explicit state machine)::

    draft --submit (apprentice)--> submitted --acknowledge (tutor)--> acknowledged
      ^                                |
      +----request_changes (tutor)-----+

The apprentice edits and deletes drafts only. ``WorkSituation.version`` is the mapper's
``version_id_col``: every UPDATE checks it, and :func:`update_situation` also compares it with the
version the client last saw, so a stale edit answers 409 instead of overwriting someone's work.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.interfaces import LoaderOption

from app.i18n import N_
from app.models import (
    Apprenticeship,
    Cohort,
    Competency,
    CompetencyBlock,
    Party,
    SituationStatus,
    User,
    WorkSituation,
)
from app.models.base import utcnow
from app.services import audit, validation
from app.services.access import (
    get_visible_apprenticeship,
    require_party,
    visible_apprenticeships_filter,
)
from app.services.documents import storage
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.journal import rules
from app.services.journal.rules import (
    CODE_PATTERN,
    COMMENT_MAX,
    COMPETENCIES_MAX,
    PAGE_MAX,
    SEARCH_MAX,
    TEXT_FIELDS,
    TEXT_MAX,
    TITLE_MAX,
)
from app.services.notifications import events as notifications

_CODE = re.compile(CODE_PATTERN)


@dataclass(frozen=True)
class SituationInput:
    """What the apprentice writes. Competencies are given by code (e.g. ``RNCP39303BC01-C02``,
    ``CT1``) and must belong to the apprenticeship's certification, any block or transversal."""

    title: str
    starts_on: date
    ends_on: date
    competency_codes: Sequence[str]
    context: str = ""
    actions: str = ""
    results: str = ""
    learnings: str = ""


@dataclass(frozen=True)
class SituationChanges:
    """A partial edit: ``None`` leaves a field as it is."""

    title: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    competency_codes: Sequence[str] | None = None
    context: str | None = None
    actions: str | None = None
    results: str | None = None
    learnings: str | None = None


@dataclass(frozen=True)
class SituationFilters:
    status: SituationStatus | None = None
    competency_code: str | None = None
    block_code: str | None = None
    q: str = ""  # text search in the title and the four text fields
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class SituationPage:
    items: Sequence[WorkSituation]
    total: int
    limit: int
    offset: int


# --- Loading ----------------------------------------------------------------------------------


def situation_options() -> list[LoaderOption]:
    """Everything a situation's JSON/HTML rendering touches."""
    return [
        selectinload(WorkSituation.competencies).joinedload(Competency.block),
        selectinload(WorkSituation.attachments),
        joinedload(WorkSituation.reviewed_by),
    ]


def get_situation(
    session: Session,
    actor: User,
    situation_id: int,
    *,
    for_update: bool = False,
) -> WorkSituation:
    """Load one situation the actor may see (joined to its apprenticeship), or raise NotFound."""
    stmt = (
        select(WorkSituation)
        .join(WorkSituation.apprenticeship)
        .where(WorkSituation.id == situation_id)
        .where(visible_apprenticeships_filter(actor))
        .options(contains_eager(WorkSituation.apprenticeship), *situation_options())
    )
    if for_update:
        # Lock the row and read it afresh: status and version are checked against what is
        # stored now, not what this session may have cached.
        stmt = stmt.with_for_update(of=WorkSituation).execution_options(populate_existing=True)
    situation = session.scalars(stmt).unique().one_or_none()
    if situation is None:
        raise NotFound("No such work situation.")
    return situation


def list_situations(
    session: Session, actor: User, apprenticeship_id: int, filters: SituationFilters
) -> SituationPage:
    appr = get_visible_apprenticeship(session, actor, apprenticeship_id)
    conditions: list[Any] = [WorkSituation.apprenticeship_id == appr.id]
    if filters.status is not None:
        conditions.append(WorkSituation.status == filters.status)
    for code in (filters.competency_code, filters.block_code):
        if code and not _CODE.fullmatch(code):
            raise InvalidInput("Unknown competency or block code.")
    if filters.competency_code:
        conditions.append(
            WorkSituation.competencies.any(Competency.code == filters.competency_code)
        )
    if filters.block_code:
        conditions.append(
            WorkSituation.competencies.any(
                Competency.block.has(CompetencyBlock.code == filters.block_code)
            )
        )
    needle = filters.q.strip()[:SEARCH_MAX]
    if needle:
        conditions.append(
            or_(
                *(
                    getattr(WorkSituation, f).icontains(needle, autoescape=True)
                    for f in ("title", *TEXT_FIELDS)
                )
            )
        )
    limit = max(1, min(filters.limit, PAGE_MAX))
    offset = max(0, filters.offset)
    total = session.scalar(select(func.count()).select_from(WorkSituation).where(*conditions))
    items = session.scalars(
        select(WorkSituation)
        .where(*conditions)
        .options(*situation_options())
        .order_by(WorkSituation.starts_on.desc(), WorkSituation.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return SituationPage(items=items, total=total or 0, limit=limit, offset=offset)


# --- Validation -------------------------------------------------------------------------------


def _check_title(title: str) -> str:
    return validation.text(
        "title",
        title,
        max_length=TITLE_MAX,
        required=True,
        required_message=N_("A title is required."),
        too_long_message=N_("The title must have at most {n} characters."),
    )


def _check_text(field: str, value: str) -> str:
    """A free-text field, kept as typed (its line breaks and spaces are the apprentice's)."""
    validation.check_text(field, value)
    if len(value) > TEXT_MAX:
        raise validation.FieldErrors.single(
            field, N_("Each text field must have at most {n} characters."), n=TEXT_MAX
        )
    return value


def _check_dates(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise InvalidInput(
            "The end date must be on or after the start date.",
            field_errors={"ends_on": "before_start"},
        )


def _certification_id(session: Session, appr: Apprenticeship) -> int:
    certification_id = session.scalar(
        select(Cohort.certification_id).where(Cohort.id == appr.cohort_id)
    )
    assert certification_id is not None  # cohort_id is a non-null foreign key
    return certification_id


def _resolve_competencies(
    session: Session, appr: Apprenticeship, codes: Sequence[str]
) -> list[Competency]:
    wanted = sorted({code.strip() for code in codes if code.strip()})
    if not wanted:
        raise InvalidInput(
            "Choose at least one competency.", field_errors={"competency_codes": "required"}
        )
    if len(wanted) > COMPETENCIES_MAX:
        raise InvalidInput(
            "Choose at most {n} competencies.",
            field_errors={"competency_codes": "too_many"},
            n=COMPETENCIES_MAX,
        )
    well_formed = [code for code in wanted if _CODE.fullmatch(code)]
    found = session.scalars(
        select(Competency)
        .where(Competency.certification_id == _certification_id(session, appr))
        .where(Competency.code.in_(well_formed))
        .options(joinedload(Competency.block))
        .order_by(Competency.code)
    ).all()
    missing = sorted(set(wanted) - {c.code for c in found})
    if missing:
        raise InvalidInput(
            "These competencies are not part of this apprenticeship's certification: {codes}.",
            field_errors={"competency_codes": "unknown"},
            codes=", ".join(missing),
        )
    return list(found)


def _flush(session: Session) -> None:
    """Flush, turning a lost optimistic-lock race into a 409."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(
            "This work situation has changed since you loaded it. Reload it and try again."
        ) from exc


def _require_draft(situation: WorkSituation) -> None:
    if not rules.is_editable(situation.status):
        raise Conflict(rules.ONLY_DRAFTS)


def _require_submitted(situation: WorkSituation) -> None:
    if not rules.is_awaiting_the_tutor(situation.status):
        raise Conflict(rules.ONLY_SUBMITTED)


# --- Audit summaries --------------------------------------------------------------------------


def _text_summary(value: str) -> dict[str, Any]:
    """Long free text is summarised (length and a short digest), not copied into the log."""
    return {"chars": len(value), "sha256": hashlib.sha256(value.encode()).hexdigest()[:16]}


def summary(situation: WorkSituation) -> dict[str, Any]:
    return {
        "title": situation.title,
        "starts_on": situation.starts_on.isoformat(),
        "ends_on": situation.ends_on.isoformat(),
        "status": situation.status.value,
        "competencies": [c.code for c in situation.competencies],
        **{field: _text_summary(getattr(situation, field)) for field in TEXT_FIELDS},
    }


def _record(
    session: Session,
    action: str,
    actor: User,
    situation: WorkSituation,
    ip: str | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    **extra: Any,
) -> None:
    details: dict[str, Any] = {"apprenticeship_id": situation.apprenticeship_id, **extra}
    if before is not None:
        details["before"] = before
    if after is not None:
        details["after"] = after
    audit.record(
        session,
        action,
        actor=actor,
        entity_type="work_situation",
        entity_id=situation.id,
        details=details,
        ip=ip,
    )


# --- Writes -----------------------------------------------------------------------------------


def create_situation(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    data: SituationInput,
    *,
    ip: str | None = None,
) -> WorkSituation:
    appr = get_visible_apprenticeship(session, actor, apprenticeship_id)
    require_party(actor, appr, Party.APPRENTICE)
    title = _check_title(data.title)
    texts = {field: _check_text(field, getattr(data, field)) for field in TEXT_FIELDS}
    _check_dates(data.starts_on, data.ends_on)
    competencies = _resolve_competencies(session, appr, data.competency_codes)
    situation = WorkSituation(
        apprenticeship_id=appr.id,
        title=title,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        status=SituationStatus.DRAFT,
        competencies=competencies,
        attachments=[],
        reviewed_by=None,
        **texts,
    )
    session.add(situation)
    _flush(session)
    _record(session, "work_situation.create", actor, situation, ip, after=summary(situation))
    return get_situation(session, actor, situation.id)


def field_errors(
    session: Session, actor: User, apprenticeship_id: int, data: SituationInput
) -> dict[str, validation.Message]:
    """Every field's problem at once (for forms and inline validation); empty when valid.
    Only the apprentice writes the journal: others who see it get Forbidden, before any
    message about the input."""
    appr = get_visible_apprenticeship(session, actor, apprenticeship_id)
    require_party(actor, appr, Party.APPRENTICE)
    errors = validation.Collector()
    errors.check("title", lambda: _check_title(data.title))
    for field in TEXT_FIELDS:
        errors.check(field, lambda f=field: _check_text(f, getattr(data, f)))  # type: ignore[misc]
    errors.check("ends_on", lambda: _check_dates(data.starts_on, data.ends_on))
    errors.check(
        "competency_codes", lambda: _resolve_competencies(session, appr, data.competency_codes)
    )
    return errors.messages


def _load_for_apprentice_edit(
    session: Session, actor: User, situation_id: int, *, for_update: bool = True
) -> WorkSituation:
    situation = get_situation(session, actor, situation_id, for_update=for_update)
    require_party(actor, situation.apprenticeship, Party.APPRENTICE)
    _require_draft(situation)
    return situation


def update_situation(
    session: Session,
    actor: User,
    situation_id: int,
    version: int,
    changes: SituationChanges,
    *,
    ip: str | None = None,
) -> WorkSituation:
    situation = _load_for_apprentice_edit(session, actor, situation_id)
    if version != situation.version:
        raise Conflict(
            "This work situation has changed since you loaded it. Reload it and try again."
        )
    before = summary(situation)
    starts_on = changes.starts_on or situation.starts_on
    ends_on = changes.ends_on or situation.ends_on
    _check_dates(starts_on, ends_on)
    updates: dict[str, Any] = {"starts_on": starts_on, "ends_on": ends_on}
    if changes.title is not None:
        updates["title"] = _check_title(changes.title)
    for field in TEXT_FIELDS:
        value = getattr(changes, field)
        if value is not None:
            updates[field] = _check_text(field, value)
    competencies = None
    if changes.competency_codes is not None:
        competencies = _resolve_competencies(
            session, situation.apprenticeship, changes.competency_codes
        )
    # Everything is valid: apply.
    for field, value in updates.items():
        setattr(situation, field, value)
    if competencies is not None:
        situation.competencies = competencies
    after = summary(situation)
    if after == before:
        return situation  # nothing changed: no write, no new version
    # A competency-only edit changes no column of this row; touching updated_at makes the
    # UPDATE happen, so the version moves on every edit.
    situation.updated_at = utcnow()
    _flush(session)
    changed = sorted(k for k in after if after[k] != before[k])
    _record(
        session,
        "work_situation.update",
        actor,
        situation,
        ip,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    return situation


def draft_to_delete(session: Session, actor: User, situation_id: int) -> WorkSituation:
    """The draft about to be deleted, for the confirmation step: the same checks as
    :func:`delete_situation`, nothing written."""
    return _load_for_apprentice_edit(session, actor, situation_id, for_update=False)


def delete_situation(
    session: Session,
    actor: User,
    situation_id: int,
    *,
    attachments_dir: Path,
    ip: str | None = None,
) -> None:
    """Delete a draft with its attachments; their files go once the transaction commits."""
    situation = _load_for_apprentice_edit(session, actor, situation_id)
    before = summary(situation)
    stored_names = [a.stored_name for a in situation.attachments]
    apprenticeship_id, entity_id = situation.apprenticeship_id, situation.id
    session.delete(situation)
    _flush(session)
    storage.remove_files_after_commit(session, attachments_dir, stored_names)
    audit.record(
        session,
        "work_situation.delete",
        actor=actor,
        entity_type="work_situation",
        entity_id=entity_id,
        details={
            "apprenticeship_id": apprenticeship_id,
            "before": before,
            "attachments": len(stored_names),
        },
        ip=ip,
    )


def submit(
    session: Session, actor: User, situation_id: int, *, ip: str | None = None
) -> WorkSituation:
    situation = _load_for_apprentice_edit(session, actor, situation_id)
    situation.status = SituationStatus.SUBMITTED
    situation.submitted_at = utcnow()
    situation.acknowledged_at = None
    _flush(session)
    _record(
        session,
        "work_situation.submit",
        actor,
        situation,
        ip,
        before={"status": SituationStatus.DRAFT.value},
        after={"status": situation.status.value},
    )
    notifications.situation_submitted(session, situation)
    return situation


def _load_for_tutor_review(session: Session, actor: User, situation_id: int) -> WorkSituation:
    situation = get_situation(session, actor, situation_id, for_update=True)
    require_party(actor, situation.apprenticeship, Party.TUTOR)
    _require_submitted(situation)
    return situation


def _check_comment(comment: str, *, required: bool) -> str:
    return validation.text(
        "comment",
        comment,
        max_length=COMMENT_MAX,
        required=required,
        required_message=N_("Explain what should change in a comment."),
        too_long_message=N_("The comment must have at most {n} characters."),
    )


def acknowledge(
    session: Session,
    actor: User,
    situation_id: int,
    comment: str = "",
    *,
    ip: str | None = None,
) -> WorkSituation:
    situation = _load_for_tutor_review(session, actor, situation_id)
    comment = _check_comment(comment, required=False)
    situation.status = SituationStatus.ACKNOWLEDGED
    situation.acknowledged_at = utcnow()
    situation.reviewed_by = actor
    situation.tutor_comment = comment
    _flush(session)
    _record(
        session,
        "work_situation.acknowledge",
        actor,
        situation,
        ip,
        before={"status": SituationStatus.SUBMITTED.value},
        after={"status": situation.status.value, "comment": _text_summary(comment)},
    )
    notifications.situation_acknowledged(session, situation, actor)
    return situation


def request_changes(
    session: Session,
    actor: User,
    situation_id: int,
    comment: str,
    *,
    ip: str | None = None,
) -> WorkSituation:
    situation = _load_for_tutor_review(session, actor, situation_id)
    comment = _check_comment(comment, required=True)
    situation.status = SituationStatus.DRAFT
    situation.submitted_at = None
    situation.reviewed_by = actor
    situation.tutor_comment = comment
    _flush(session)
    _record(
        session,
        "work_situation.request_changes",
        actor,
        situation,
        ip,
        before={"status": SituationStatus.SUBMITTED.value},
        after={"status": situation.status.value, "comment": _text_summary(comment)},
    )
    notifications.situation_changes_requested(session, situation, actor)
    return situation
