"""Semester reviews: the three parties' assessments, the agreed content and co-signature.

State machine of a review:

    open ──(a party signs)──> open, partly signed ──(third signature)──> locked
      ^                         │ agreed content changes: signatures voided
      └─────────────────────────┘
    locked ──(admin reopens, with a reason: signatures voided)──> open

While locked, every change answers 409. Each write carries the version the client last saw; a
stale version answers 409 and never overwrites (the party's own version for its assessment,
the review's version for the agreed content).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import N_
from app.models import (
    CompetencyRating,
    LoginFailure,
    Party,
    PartyAssessment,
    RatingSource,
    Signature,
    User,
)
from app.models.base import utcnow
from app.services import audit, validation
from app.services.access import require_admin, require_party, roles_of
from app.services.errors import Conflict, Forbidden, InvalidInput, ReauthenticationFailed
from app.services.notifications import events as notifications
from app.services.people.auth import is_throttled, throttled_error
from app.services.people.passwords import verify_password
from app.services.reviews import rules, sign_codes
from app.services.reviews.detail import ReviewDetail, load_detail, require_may_sign
from app.services.school import rules as school_rules
from app.services.validation import Collector


@dataclass(frozen=True)
class RatingInput:
    competency_id: int
    level: int | None = None
    not_observed: bool = False
    comment: str = ""


# --- Writes -----------------------------------------------------------------------------------


def _require_open(detail: ReviewDetail) -> None:
    if detail.review.is_locked:
        raise Conflict(rules.SignBlocker.LOCKED.message)


def _validate_ratings(detail: ReviewDetail, items: Iterable[RatingInput]) -> list[RatingInput]:
    known = detail.referential.competency_by_id()
    levels = detail.referential.level_values
    seen: set[int] = set()
    cleaned = []
    for item in items:
        if item.competency_id not in known:
            raise InvalidInput(
                "Competency {id} is not part of this certification.",
                id=item.competency_id,
                field_errors={"ratings": "unknown_competency"},
            )
        if item.competency_id in seen:
            raise InvalidInput("Competency {id} is rated twice.", id=item.competency_id)
        seen.add(item.competency_id)
        if item.level is not None and item.not_observed:
            raise InvalidInput("A competency is either rated or marked not observed, not both.")
        if item.level is not None and item.level not in levels:
            raise InvalidInput(
                "Level {level} is not on this certification's scale ({levels}).",
                level=item.level,
                levels=", ".join(str(v) for v in sorted(levels)),
                field_errors={"ratings": "level_out_of_scale"},
            )
        validation.check_text("ratings", item.comment)
        if len(item.comment) > rules.COMMENT_MAX:
            raise InvalidInput("A comment may have at most {n} characters.", n=rules.COMMENT_MAX)
        cleaned.append(item)
    return cleaned


def _rating_summary(rating: CompetencyRating | None) -> dict[str, Any] | None:
    if rating is None:
        return None
    return {"level": rating.level, "not_observed": rating.not_observed, "comment": rating.comment}


def _apply_ratings(
    session: Session,
    detail: ReviewDetail,
    source: RatingSource,
    items: list[RatingInput],
    actor: User,
) -> dict[str, Any]:
    """Upsert ratings; return a before/after summary of what actually changed."""
    now = utcnow()
    current = detail.ratings[source]
    by_id = detail.referential.competency_by_id()
    changes: dict[str, Any] = {}
    for item in items:
        rating = current.get(item.competency_id)
        before = _rating_summary(rating)
        after = {"level": item.level, "not_observed": item.not_observed, "comment": item.comment}
        if before == after:
            continue
        if rating is None:
            rating = CompetencyRating(
                review_id=detail.review.id,
                competency_id=item.competency_id,
                source=source,
                updated_at=now,
            )
            session.add(rating)
            current[item.competency_id] = rating
        rating.level = item.level
        rating.not_observed = item.not_observed
        rating.comment = item.comment
        rating.updated_at = now
        rating.updated_by_id = actor.id
        changes[by_id[item.competency_id].code] = {"before": before, "after": after}
    return changes


def save_assessment(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    semester: int,
    party: Party,
    *,
    version: int,
    ratings: list[RatingInput],
    general_comment: str | None = None,
    ip: str | None = None,
) -> ReviewDetail:
    """A party records its own assessment (upserting the listed competencies)."""
    detail = load_detail(session, actor, apprenticeship_id, semester, for_update=True)
    require_party(actor, detail.apprenticeship, party)
    _require_open(detail)
    source = RatingSource.of(party)
    assessment = detail.assessments.get(party)
    current_version = assessment.version if assessment else 0
    if version != current_version:
        who = assessment.updated_by.full_name if assessment and assessment.updated_by else ""
        raise Conflict(
            "This assessment was changed meanwhile (by {who}); reload it and apply your "
            "changes again.",
            who=who or "?",
            current_version=current_version,
        )
    items = _validate_ratings(detail, ratings)
    if general_comment is not None:
        validation.check_text("general_comment", general_comment)
    if general_comment is not None and len(general_comment) > rules.SUMMARY_MAX:
        raise InvalidInput(
            "The general comment may have at most {n} characters.", n=rules.SUMMARY_MAX
        )
    changes = _apply_ratings(session, detail, source, items, actor)
    previous_comment = assessment.general_comment if assessment else ""
    if general_comment is not None and general_comment != previous_comment:
        changes["general_comment"] = {"before": previous_comment, "after": general_comment}
    if changes:
        if assessment is None:
            assessment = PartyAssessment(
                review_id=detail.review.id, party=party, version=0, general_comment=""
            )
            session.add(assessment)
            detail.assessments[party] = assessment
        if general_comment is not None:
            assessment.general_comment = general_comment
        assessment.version = current_version + 1
        assessment.updated_by_id = actor.id
        assessment.updated_by = actor
        session.flush()
        audit.record(
            session,
            "review.assessment",
            actor=actor,
            entity_type="semester_review",
            entity_id=detail.review.id,
            ip=ip,
            details={"party": party.value, "semester": semester, "changes": changes},
        )
    return detail


def save_agreed(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    semester: int,
    *,
    version: int,
    ratings: list[RatingInput],
    summary: str | None = None,
    ip: str | None = None,
) -> ReviewDetail:
    """Any of the three parties edits the agreed content; a change voids every signature."""
    detail = load_detail(session, actor, apprenticeship_id, semester, for_update=True)
    if not rules.may_edit_agreed(roles_of(actor, detail.apprenticeship), locked=False):
        raise Forbidden(
            "Only the apprentice, the tutor or the supervisor may edit the agreed content."
        )
    _require_open(detail)
    if version != detail.review.version:
        raise Conflict(
            "The agreed content was changed meanwhile; reload it and apply your changes again.",
            current_version=detail.review.version,
        )
    items = _validate_ratings(detail, ratings)
    if summary is not None:
        validation.check_text("summary", summary)
    if summary is not None and len(summary) > rules.SUMMARY_MAX:
        raise InvalidInput("The summary may have at most {n} characters.", n=rules.SUMMARY_MAX)
    was_complete = detail.agreed_complete
    changes = _apply_ratings(session, detail, RatingSource.AGREED, items, actor)
    if summary is not None and summary != detail.review.agreed_summary:
        changes["summary"] = {"before": detail.review.agreed_summary, "after": summary}
        detail.review.agreed_summary = summary
    if not changes:
        return detail
    detail.review.version += 1
    session.flush()
    audit.record(
        session,
        "review.agreed",
        actor=actor,
        entity_type="semester_review",
        entity_id=detail.review.id,
        ip=ip,
        details={"semester": semester, "changes": changes},
    )
    voided = _void_signatures(
        session, detail, actor, N_("The agreed content changed after this signature."), ip
    )
    notifications.agreed_content_changed(
        session, detail, actor, was_complete=was_complete, voided=voided
    )
    return detail


def _void_signatures(
    session: Session, detail: ReviewDetail, actor: User, reason: str, ip: str | None
) -> list[Signature]:
    voided = [s for s in detail.signatures if s.is_active]
    if not voided:
        return voided
    now = utcnow()
    for signature in voided:
        signature.voided_at = now
        signature.void_reason = reason
    session.flush()
    audit.record(
        session,
        "review.signatures_voided",
        actor=actor,
        entity_type="semester_review",
        entity_id=detail.review.id,
        ip=ip,
        details={
            "reason": reason,
            "signatures": [
                {"id": s.id, "role": s.role.value, "signer_id": s.signer_id} for s in voided
            ],
        },
    )
    notifications.signatures_voided(session, detail, voided, actor, reason)
    return voided


def sign(
    session: Session,
    settings: Settings,
    actor: User,
    apprenticeship_id: int,
    semester: int,
    role: Party,
    *,
    password: str | None = None,
    email_code: str | None = None,
    auth_method: str = "password",
    ip: str | None = None,
    user_agent: str | None = None,
    method: str = "password",
) -> ReviewDetail:
    """Sign the agreed content as ``role``, proving intent by re-entering the password.

    A session opened with an emailed sign-in link (``auth_method="link"``) holds no proof of
    the password: it signs with a one-time code emailed to the signer (``email_code``, see
    :func:`app.services.reviews.sign_codes.send_sign_code`), recorded as method ``email_code``, and
    may not use the password path. Every other session signs with the password and may not
    use a code. Wrong passwords and wrong codes count toward the same per-account throttle."""
    detail = load_detail(session, actor, apprenticeship_id, semester, for_update=True)
    require_may_sign(detail, actor, role)
    if is_throttled(session, settings, actor.email):
        raise throttled_error(settings)
    failure = N_("The password is incorrect; the review was not signed.")
    if auth_method == "link":
        if email_code is None or password is not None:
            raise Forbidden(
                "You signed in with an emailed link: to sign, ask for a code by email and enter it."
            )
        failure = N_("The code is incorrect or has expired; the review was not signed.")
        proven = sign_codes.verify_sign_code(
            session, settings, actor, detail.review.id, role, email_code
        )
        method = "email_code"
    elif email_code is not None:
        raise Forbidden("Emailed codes are for sessions opened with a sign-in link.")
    else:
        proven = verify_password(actor.password_hash, password or "")
    if not proven:
        session.add(LoginFailure(email=actor.email, ip=ip))
        audit.record(
            session,
            "review.sign_failed",
            actor=actor,
            entity_type="semester_review",
            entity_id=detail.review.id,
            ip=ip,
            details={"role": role.value},
        )
        raise ReauthenticationFailed(failure)
    content_hash = detail.content_hash()
    signature = Signature(
        review_id=detail.review.id,
        signer_id=actor.id,
        signer=actor,
        role=role,
        signed_at=utcnow(),
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
        method=method,
        content_hash=content_hash,
    )
    session.add(signature)
    detail.signatures.append(signature)
    session.flush()
    audit.record(
        session,
        "review.sign",
        actor=actor,
        entity_type="semester_review",
        entity_id=detail.review.id,
        ip=ip,
        details={"role": role.value, "semester": semester, "content_hash": content_hash},
    )
    if rules.locks_review(detail.signed_roles):
        detail.review.locked_at = utcnow()
        session.flush()
        audit.record(
            session,
            "review.locked",
            actor=actor,
            entity_type="semester_review",
            entity_id=detail.review.id,
            ip=ip,
            details={"semester": semester, "content_hash": content_hash},
        )
        notifications.review_locked(session, detail, content_hash)
    return detail


def reopen(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    semester: int,
    *,
    reason: str,
    ip: str | None = None,
) -> ReviewDetail:
    """An admin reopens a locked review; the signatures are voided, the reason recorded."""
    detail = load_detail(session, actor, apprenticeship_id, semester, for_update=True)
    _require_reopenable(detail, actor)
    reason = validation.check_text("reason", reason).strip()
    if not reason:
        raise InvalidInput(
            "A reason is required to reopen a review.", field_errors={"reason": "required"}
        )
    if len(reason) > rules.COMMENT_MAX:
        raise InvalidInput("The reason may have at most {n} characters.", n=rules.COMMENT_MAX)
    detail.review.locked_at = None
    detail.review.version += 1
    session.flush()
    audit.record(
        session,
        "review.reopen",
        actor=actor,
        entity_type="semester_review",
        entity_id=detail.review.id,
        ip=ip,
        details={"semester": semester, "reason": reason},
    )
    _void_signatures(session, detail, actor, reason, ip)
    return detail


def _require_reopenable(detail: ReviewDetail, actor: User) -> None:
    require_admin(actor)  # after the view check: outsiders get 404, not 403
    if not detail.review.is_locked:
        raise Conflict("Only a locked review can be reopened.")


def reopen_step(
    session: Session, actor: User, apprenticeship_id: int, semester: int
) -> ReviewDetail:
    """The review about to be reopened, for the confirmation step: the same checks as
    :func:`reopen`, nothing written."""
    detail = load_detail(session, actor, apprenticeship_id, semester)
    _require_reopenable(detail, actor)
    return detail


def adjust_dates(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    semester: int,
    *,
    starts_on: date | None,
    ends_on: date | None,
    ip: str | None = None,
) -> ReviewDetail:
    """An admin moves one semester's dates (refused with 409 once its review is locked)."""
    detail = load_detail(session, actor, apprenticeship_id, semester, for_update=True)
    require_admin(actor)
    errors = Collector()
    for field, value in (("starts_on", starts_on), ("ends_on", ends_on)):
        if value is None:
            errors.add(field, validation.REQUIRED)
    if starts_on is not None and ends_on is not None and ends_on <= starts_on:
        errors.add("ends_on", school_rules.END_BEFORE_START)
    errors.raise_if_any()
    assert starts_on is not None and ends_on is not None
    _require_open(detail)
    before = {
        "starts_on": detail.review.starts_on.isoformat(),
        "ends_on": detail.review.ends_on.isoformat(),
    }
    detail.review.starts_on, detail.review.ends_on = starts_on, ends_on
    session.flush()
    audit.record(
        session,
        "review.dates",
        actor=actor,
        entity_type="semester_review",
        entity_id=detail.review.id,
        ip=ip,
        details={
            "before": before,
            "after": {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
        },
    )
    return detail
