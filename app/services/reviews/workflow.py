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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.config import Settings
from app.i18n import N_
from app.models import (
    Apprenticeship,
    CompetencyRating,
    LoginFailure,
    PartyAssessment,
    RatingSource,
    SemesterReview,
    Signature,
    User,
)
from app.models.base import utcnow
from app.services import audit
from app.services.access import (
    Party,
    get_visible_apprenticeship,
    require_admin,
    require_party,
    roles_of,
)
from app.services.canonical import sha256_hex
from app.services.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ReauthenticationFailed,
)
from app.services.notifications import events as notifications
from app.services.people.auth import is_throttled, throttled_error
from app.services.people.passwords import verify_password
from app.services.referentials.views import ReferentialView, referential_for
from app.services.school.apprenticeships import detail_options

PARTIES: tuple[Party, ...] = (Party.APPRENTICE, Party.TUTOR, Party.SUPERVISOR)
DIVERGENCE_GAP = 2
MAX_COMMENT = 5000
MAX_SUMMARY = 20000


@dataclass(frozen=True)
class RatingInput:
    competency_id: int
    level: int | None = None
    not_observed: bool = False
    comment: str = ""


@dataclass
class ReviewDetail:
    """Everything a review page or API response needs, loaded in a fixed number of queries."""

    apprenticeship: Apprenticeship
    review: SemesterReview
    referential: ReferentialView
    ratings: dict[RatingSource, dict[int, CompetencyRating]]
    assessments: dict[RatingSource, PartyAssessment]
    signatures: list[Signature]
    divergences: set[int] = field(default_factory=set)

    @property
    def active_signatures(self) -> list[Signature]:
        return [s for s in self.signatures if s.is_active]

    @property
    def voided_signatures(self) -> list[Signature]:
        return [s for s in self.signatures if not s.is_active]

    @property
    def agreed_complete(self) -> bool:
        agreed = self.ratings[RatingSource.AGREED]
        return all(
            (r := agreed.get(c.id)) is not None and (r.level is not None or r.not_observed)
            for c in self.referential.competencies
        )

    def content(self) -> dict[str, Any]:
        return agreed_content(
            self.apprenticeship, self.review, self.referential, self.ratings[RatingSource.AGREED]
        )

    def content_hash(self) -> str:
        return sha256_hex(self.content())


def agreed_content(
    appr: Apprenticeship,
    review: SemesterReview,
    referential: ReferentialView,
    agreed: dict[int, CompetencyRating],
) -> dict[str, Any]:
    """What the three parties sign: canonical, keyed by competency code, no floats."""
    by_id = referential.competency_by_id()
    return {
        "apprenticeship_id": appr.id,
        "certification": referential.rncp_code,
        "semester": review.semester,
        "summary": review.agreed_summary,
        "ratings": {
            by_id[r.competency_id].code: {
                "level": r.level,
                "not_observed": bool(r.not_observed),
                "comment": r.comment,
            }
            for r in agreed.values()
            if r.competency_id in by_id
        },
    }


# --- Loading ----------------------------------------------------------------------------------


def _load_apprenticeship(session: Session, actor: User, apprenticeship_id: int) -> Apprenticeship:
    return get_visible_apprenticeship(session, actor, apprenticeship_id, detail_options())


def list_reviews(
    session: Session, actor: User, apprenticeship_id: int
) -> tuple[Apprenticeship, Sequence[SemesterReview]]:
    appr = _load_apprenticeship(session, actor, apprenticeship_id)
    reviews = (
        session.scalars(
            select(SemesterReview)
            .where(SemesterReview.apprenticeship_id == appr.id)
            .options(joinedload(SemesterReview.signatures))
            .order_by(SemesterReview.semester)
        )
        .unique()
        .all()
    )
    return appr, reviews


def load_detail(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    semester: int,
    *,
    for_update: bool = False,
) -> ReviewDetail:
    appr = _load_apprenticeship(session, actor, apprenticeship_id)
    stmt = select(SemesterReview).where(
        SemesterReview.apprenticeship_id == appr.id, SemesterReview.semester == semester
    )
    if for_update:
        stmt = stmt.with_for_update()
    review = session.scalars(stmt).one_or_none()
    if review is None:
        raise NotFound("No such semester review.")
    referential = referential_for(session, appr.cohort.certification)
    ratings: dict[RatingSource, dict[int, CompetencyRating]] = {s: {} for s in RatingSource}
    for rating in session.scalars(
        select(CompetencyRating).where(CompetencyRating.review_id == review.id)
    ):
        ratings[rating.source][rating.competency_id] = rating
    assessments = {
        a.party: a
        for a in session.scalars(
            select(PartyAssessment)
            .where(PartyAssessment.review_id == review.id)
            .options(joinedload(PartyAssessment.updated_by))
        )
    }
    signatures = list(
        session.scalars(
            select(Signature)
            .where(Signature.review_id == review.id)
            .options(joinedload(Signature.signer))
            .order_by(Signature.signed_at, Signature.id)
        )
    )
    detail = ReviewDetail(appr, review, referential, ratings, assessments, signatures)
    detail.divergences = divergences(ratings)
    return detail


def divergences(ratings: dict[RatingSource, dict[int, CompetencyRating]]) -> set[int]:
    """Competencies where the apprentice's and the tutor's levels differ by 2 or more."""
    apprentice, tutor = ratings[RatingSource.APPRENTICE], ratings[RatingSource.TUTOR]
    flagged = set()
    for competency_id, mine in apprentice.items():
        theirs = tutor.get(competency_id)
        if (
            theirs is not None
            and mine.level is not None
            and theirs.level is not None
            and abs(mine.level - theirs.level) >= DIVERGENCE_GAP
        ):
            flagged.add(competency_id)
    return flagged


# --- Writes -----------------------------------------------------------------------------------


def _require_open(detail: ReviewDetail) -> None:
    if detail.review.is_locked:
        raise Conflict("This review is signed and locked; it can no longer be changed.")


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
        if len(item.comment) > MAX_COMMENT:
            raise InvalidInput("A comment may have at most {n} characters.", n=MAX_COMMENT)
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
    source = RatingSource(party.value)
    assessment = detail.assessments.get(source)
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
    if general_comment is not None and len(general_comment) > MAX_SUMMARY:
        raise InvalidInput("The general comment may have at most {n} characters.", n=MAX_SUMMARY)
    changes = _apply_ratings(session, detail, source, items, actor)
    previous_comment = assessment.general_comment if assessment else ""
    if general_comment is not None and general_comment != previous_comment:
        changes["general_comment"] = {"before": previous_comment, "after": general_comment}
    if changes:
        if assessment is None:
            assessment = PartyAssessment(
                review_id=detail.review.id, party=source, version=0, general_comment=""
            )
            session.add(assessment)
            detail.assessments[source] = assessment
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
    detail.divergences = divergences(detail.ratings)
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
    if not any(p in PARTIES for p in _roles(actor, detail)):
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
    if summary is not None and len(summary) > MAX_SUMMARY:
        raise InvalidInput("The summary may have at most {n} characters.", n=MAX_SUMMARY)
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


def _roles(actor: User, detail: ReviewDetail) -> set[Party]:
    return roles_of(actor, detail.apprenticeship)


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
    :func:`app.services.people.signin_links.send_sign_code`), recorded as method ``email_code``, and
    may not use the password path. Every other session signs with the password and may not
    use a code. Wrong passwords and wrong codes count toward the same per-account throttle."""
    detail = load_detail(session, actor, apprenticeship_id, semester, for_update=True)
    require_party(actor, detail.apprenticeship, role)
    _require_open(detail)
    if is_throttled(session, settings, actor.email):
        raise throttled_error(settings)
    failure = N_("The password is incorrect; the review was not signed.")
    if auth_method == "link":
        from app.services.people import signin_links  # signin_links imports this module

        if email_code is None or password is not None:
            raise Forbidden(
                "You signed in with an emailed link: to sign, ask for a code by email and enter it."
            )
        failure = N_("The code is incorrect or has expired; the review was not signed.")
        proven = signin_links.verify_sign_code(
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
    if not detail.agreed_complete:
        raise Conflict('Every competency needs an agreed level (or "not observed") before signing.')
    source = RatingSource(role.value)
    if any(s.role == source for s in detail.active_signatures):
        raise Conflict("This review is already signed in this role.")
    content_hash = detail.content_hash()
    signature = Signature(
        review_id=detail.review.id,
        signer_id=actor.id,
        signer=actor,
        role=source,
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
    if {s.role for s in detail.active_signatures} >= {RatingSource(p.value) for p in PARTIES}:
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
    require_admin(actor)  # after the view check: outsiders get 404, not 403
    reason = reason.strip()
    if not reason:
        raise InvalidInput(
            "A reason is required to reopen a review.", field_errors={"reason": "required"}
        )
    if len(reason) > MAX_COMMENT:
        raise InvalidInput("The reason may have at most {n} characters.", n=MAX_COMMENT)
    if not detail.review.is_locked:
        raise Conflict("Only a locked review can be reopened.")
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


def adjust_dates(
    session: Session,
    actor: User,
    apprenticeship_id: int,
    semester: int,
    *,
    starts_on: date,
    ends_on: date,
    ip: str | None = None,
) -> ReviewDetail:
    detail = load_detail(session, actor, apprenticeship_id, semester, for_update=True)
    require_admin(actor)
    if ends_on <= starts_on:
        raise InvalidInput(
            "The end date must be after the start date.", field_errors={"ends_on": "before_start"}
        )
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


# --- Verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureCheck:
    signature: Signature
    status: str  # "intact", "altered" or "voided"


@dataclass(frozen=True)
class Verification:
    content_hash: str
    checks: list[SignatureCheck]

    @property
    def intact(self) -> bool:
        return all(c.status != "altered" for c in self.checks)


def verify(detail: ReviewDetail) -> Verification:
    """Recompute the agreed content's hash and compare it with each signature's."""
    current = detail.content_hash()
    checks = [
        SignatureCheck(
            s,
            "voided" if not s.is_active else ("intact" if s.content_hash == current else "altered"),
        )
        for s in detail.signatures
    ]
    return Verification(current, checks)


class ReviewDates(Protocol):
    """What the state of a review depends on (an ORM row or a lighter record)."""

    @property
    def starts_on(self) -> date: ...
    @property
    def ends_on(self) -> date: ...
    @property
    def is_locked(self) -> bool: ...


def is_overdue(review: ReviewDates, today: date, overdue_days: int) -> bool:
    return not review.is_locked and (today - review.ends_on).days > overdue_days


def review_state(review: ReviewDates, today: date) -> str:
    if review.is_locked:
        return "locked"
    if review.starts_on > today:
        return "upcoming"
    return "pending"
