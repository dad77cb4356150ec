"""Who is told what, by email, when something happens. Each function only *queues* messages
(:func:`app.services.notifications.outbox.enqueue`) in the caller's transaction; nothing is
sent here.

People are not told about their own actions: the person who edits the agreed content or voids
signatures gets no message about it (they are on the page), except the final "signed and
locked" message, which goes to all three parties as a record.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from app.models import Signature, User, WorkSituation
from app.services.notifications import outbox as mail
from app.web.urls import review_url, situation_url

if TYPE_CHECKING:
    from app.services.reviews.detail import ReviewDetail


def _user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)  # usually already in the identity map: no query


def _distinct(users: Iterable[User]) -> list[User]:
    seen: dict[int, User] = {}
    for user in users:
        seen.setdefault(user.id, user)
    return list(seen.values())


# --- Journal ----------------------------------------------------------------------------------


def situation_submitted(session: Session, situation: WorkSituation) -> None:
    """To the tutor: a situation awaits their reading."""
    appr = situation.apprenticeship
    tutor, apprentice = _user(session, appr.tutor_id), _user(session, appr.apprentice_id)
    if tutor is None or apprentice is None:
        return
    mail.enqueue(
        session,
        tutor,
        "situation_submitted",
        {
            "apprentice_name": apprentice.full_name,
            "title": situation.title,
            "starts_on": situation.starts_on,
            "ends_on": situation.ends_on,
            "path": situation_url(situation.id),
        },
    )


def _tutor_answered(session: Session, situation: WorkSituation, kind: str, tutor: User) -> None:
    apprentice = _user(session, situation.apprenticeship.apprentice_id)
    if apprentice is None:
        return
    mail.enqueue(
        session,
        apprentice,
        kind,
        {
            "tutor_name": tutor.full_name,
            "title": situation.title,
            "comment": situation.tutor_comment,
            "path": situation_url(situation.id),
        },
    )


def situation_acknowledged(session: Session, situation: WorkSituation, tutor: User) -> None:
    """To the apprentice: the tutor acknowledged the situation (with their comment, if any)."""
    _tutor_answered(session, situation, "situation_acknowledged", tutor)


def situation_changes_requested(session: Session, situation: WorkSituation, tutor: User) -> None:
    """To the apprentice: the situation is a draft again, with the tutor's comment."""
    _tutor_answered(session, situation, "situation_changes_requested", tutor)


# --- Reviews ----------------------------------------------------------------------------------


def _parties(detail: ReviewDetail) -> list[User]:
    appr = detail.apprenticeship
    return _distinct([appr.apprentice, appr.tutor, appr.supervisor])


def _review_context(detail: ReviewDetail) -> dict[str, object]:
    appr = detail.apprenticeship
    return {
        "apprentice_name": appr.apprentice.full_name,
        "semester": detail.review.semester,
        "path": review_url(appr.id, detail.review.semester),
    }


def signatures_voided(
    session: Session, detail: ReviewDetail, voided: list[Signature], actor: User, reason: str
) -> None:
    """To each signer whose signature was just voided (but the person who caused it)."""
    signers = _distinct(s.signer for s in voided if s.signer_id != actor.id)
    for signer in signers:
        mail.enqueue(
            session,
            signer,
            "signature_voided",
            {**_review_context(detail), "actor_name": actor.full_name, "reason": reason},
        )


def agreed_content_changed(
    session: Session,
    detail: ReviewDetail,
    actor: User,
    *,
    was_complete: bool,
    voided: list[Signature],
) -> None:
    """When the agreed content becomes complete, the parties who have not signed (and were not
    just told their signature was voided) learn it is ready to sign."""
    if was_complete or not detail.agreed_complete:
        return
    signed = {s.signer_id for s in detail.active_signatures} | {s.signer_id for s in voided}
    for party in _parties(detail):
        if party.id != actor.id and party.id not in signed:
            mail.enqueue(session, party, "review_ready_to_sign", _review_context(detail))


def review_locked(session: Session, detail: ReviewDetail, content_hash: str) -> None:
    """To the three parties: everyone signed, the review is locked."""
    for party in _parties(detail):
        mail.enqueue(
            session,
            party,
            "review_locked",
            {**_review_context(detail), "content_hash": content_hash},
        )
