"""Evidence attachments: a work situation's files (while it is a draft) and an English
result's certificate, with who may add, read and remove them. The files themselves are kept by
:mod:`app.services.documents.storage`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.i18n import N_
from app.models import (
    Apprenticeship,
    Attachment,
    EnglishResult,
    Party,
    User,
    WorkSituation,
)
from app.models.base import utcnow
from app.services import audit
from app.services.access import require_party, visible_apprenticeships_filter
from app.services.degree_conditions.evidence import get_english_result, require_apprentice_or_admin
from app.services.documents.storage import (
    display_filename,
    remove_file_on_rollback,
    remove_files_after_commit,
    store_upload,
    stored_path,
)
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.journal import rules as journal_rules
from app.services.journal.situations import get_situation

log = logging.getLogger("livret.attachments")

MAX_ATTACHMENTS_PER_SITUATION = 20


# --- Service ----------------------------------------------------------------------------------


def summary(attachment: Attachment) -> dict[str, Any]:
    return {
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size_bytes": attachment.size_bytes,
        "sha256": attachment.sha256,
    }


def _save(
    session: Session,
    actor: User,
    directory: Path,
    stream: BinaryIO,
    filename: str | None,
    owner: dict[str, int],
    apprenticeship_id: int,
    ip: str | None,
) -> Attachment:
    stored = store_upload(stream, directory)
    try:
        attachment = Attachment(
            filename=display_filename(filename, stored.content_type),
            stored_name=stored.stored_name,
            content_type=stored.content_type,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
            uploaded_by_id=actor.id,
            uploaded_at=utcnow(),
            **owner,
        )
        session.add(attachment)
        session.flush()
        audit.record(
            session,
            "attachment.create",
            actor=actor,
            entity_type="attachment",
            entity_id=attachment.id,
            details={"apprenticeship_id": apprenticeship_id, **owner, "after": summary(attachment)},
            ip=ip,
        )
        remove_file_on_rollback(session, stored.path)
    except BaseException:
        stored.path.unlink(missing_ok=True)
        raise
    return attachment


def add_to_situation(
    session: Session,
    actor: User,
    directory: Path,
    situation_id: int,
    stream: BinaryIO,
    filename: str | None,
    *,
    ip: str | None = None,
) -> Attachment:
    """Attach evidence to a draft situation (apprentice only). Checks run before any byte is
    written."""
    situation = get_situation(session, actor, situation_id, for_update=True)
    require_party(actor, situation.apprenticeship, Party.APPRENTICE)
    if not journal_rules.is_editable(situation.status):
        raise Conflict(N_("Attachments can only be added to or removed from a draft."))
    if len(situation.attachments) >= MAX_ATTACHMENTS_PER_SITUATION:
        raise InvalidInput(
            N_("A work situation can have at most {n} attachments."),
            field_errors={"file": "too_many"},
            n=MAX_ATTACHMENTS_PER_SITUATION,
        )
    return _save(
        session,
        actor,
        directory,
        stream,
        filename,
        {"work_situation_id": situation.id},
        situation.apprenticeship_id,
        ip,
    )


def add_to_english_result(
    session: Session,
    actor: User,
    directory: Path,
    result_id: int,
    stream: BinaryIO,
    filename: str | None,
    *,
    ip: str | None = None,
) -> Attachment:
    """Attach the certificate of an English result (apprentice or admin; one per result)."""
    result, appr = get_english_result(session, actor, result_id, for_update=True)
    require_apprentice_or_admin(actor, appr)
    if result.attachments:
        raise Conflict(
            N_("This result already has a certificate. Delete it before sending another one.")
        )
    return _save(
        session, actor, directory, stream, filename, {"english_result_id": result.id}, appr.id, ip
    )


def list_for_situation(session: Session, actor: User, situation_id: int) -> list[Attachment]:
    return list(get_situation(session, actor, situation_id).attachments)


def _owner_apprenticeship_id() -> Any:
    return func.coalesce(WorkSituation.apprenticeship_id, EnglishResult.apprenticeship_id)


def get_attachment(
    session: Session, actor: User, attachment_id: int
) -> tuple[Attachment, Apprenticeship, WorkSituation | None]:
    """One attachment whose owner (situation or English result) the actor may see."""
    row = session.execute(
        select(Attachment, Apprenticeship, WorkSituation)
        .outerjoin(WorkSituation, WorkSituation.id == Attachment.work_situation_id)
        .outerjoin(EnglishResult, EnglishResult.id == Attachment.english_result_id)
        .join(Apprenticeship, Apprenticeship.id == _owner_apprenticeship_id())
        .where(Attachment.id == attachment_id)
        .where(visible_apprenticeships_filter(actor))
    ).one_or_none()
    if row is None:
        raise NotFound(N_("No such attachment."))
    return row[0], row[1], row[2]


@dataclass(frozen=True)
class Download:
    path: Path
    filename: str
    content_type: str
    size_bytes: int


def open_download(session: Session, actor: User, directory: Path, attachment_id: int) -> Download:
    attachment, _appr, _situation = get_attachment(session, actor, attachment_id)
    path = stored_path(directory, attachment.stored_name)
    if not path.is_file():
        log.error("Attachment %s: file %s is missing", attachment.id, path)
        raise NotFound(
            N_("The file of this attachment is missing. Ask the apprentice to send it again.")
        )
    return Download(path, attachment.filename, attachment.content_type, attachment.size_bytes)


def attachment_to_delete(
    session: Session, actor: User, attachment_id: int
) -> tuple[Attachment, Apprenticeship, WorkSituation | None]:
    """The attachment about to be removed (with what owns it), if the actor may remove it:
    for the confirmation step and for :func:`delete_attachment`."""
    attachment, appr, situation = get_attachment(session, actor, attachment_id)
    if situation is not None:
        require_party(actor, appr, Party.APPRENTICE)
        if not journal_rules.is_editable(situation.status):
            raise Conflict(N_("Attachments can only be added to or removed from a draft."))
    else:
        require_apprentice_or_admin(actor, appr)
    return attachment, appr, situation


def delete_attachment(
    session: Session, actor: User, directory: Path, attachment_id: int, *, ip: str | None = None
) -> None:
    attachment, appr, _situation = attachment_to_delete(session, actor, attachment_id)
    details = {
        "apprenticeship_id": appr.id,
        "work_situation_id": attachment.work_situation_id,
        "english_result_id": attachment.english_result_id,
        "before": summary(attachment),
    }
    stored_name = attachment.stored_name
    session.delete(attachment)
    session.flush()
    remove_files_after_commit(session, directory, [stored_name])
    audit.record(
        session,
        "attachment.delete",
        actor=actor,
        entity_type="attachment",
        entity_id=attachment_id,
        details=details,
        ip=ip,
    )
