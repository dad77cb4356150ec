"""What the three parties sign, and how a signature is checked against it.

The agreed content is serialised canonically (sorted keys, UTF-8, no floats) and hashed with
SHA-256; each signature keeps the hash it was given, so any later change shows as "altered".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.i18n import N_
from app.models import Apprenticeship, CompetencyRating, SemesterReview, Signature
from app.services.canonical import sha256_hex
from app.services.referentials.views import ReferentialView


def agreed_content(
    appr: Apprenticeship,
    review: SemesterReview,
    referential: ReferentialView,
    agreed: Mapping[int, CompetencyRating],
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


def content_hash(content: dict[str, Any]) -> str:
    return sha256_hex(content)


class SignatureStatus(enum.StrEnum):
    INTACT = "intact"
    ALTERED = "altered"
    VOIDED = "voided"

    @property
    def label(self) -> str:
        """A msgid for people (translate it where it is shown)."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    SignatureStatus.INTACT: N_("valid, intact"),
    SignatureStatus.ALTERED: N_("altered"),
    SignatureStatus.VOIDED: N_("voided"),
}


@dataclass(frozen=True)
class SignatureCheck:
    signature: Signature
    status: SignatureStatus


@dataclass(frozen=True)
class Verification:
    content_hash: str
    checks: list[SignatureCheck]

    @property
    def intact(self) -> bool:
        return all(c.status is not SignatureStatus.ALTERED for c in self.checks)


def verify(signatures: Sequence[Signature], current_hash: str) -> Verification:
    """Compare each signature's hash with the current content's."""
    checks = [
        SignatureCheck(
            s,
            SignatureStatus.VOIDED
            if not s.is_active
            else (
                SignatureStatus.INTACT
                if s.content_hash == current_hash
                else SignatureStatus.ALTERED
            ),
        )
        for s in signatures
    ]
    return Verification(current_hash, checks)
