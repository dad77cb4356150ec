"""The three parties to an apprenticeship: the one enum for whoever assesses and signs."""

from __future__ import annotations

import enum

from app.i18n import N_


class Party(enum.StrEnum):
    """The three roles a person can hold toward an apprenticeship."""

    APPRENTICE = "apprentice"
    TUTOR = "tutor"
    SUPERVISOR = "supervisor"

    @property
    def label(self) -> str:
        """A msgid for people (translate it where it is shown)."""
        return _PARTY_LABELS[self]


_PARTY_LABELS = {
    Party.APPRENTICE: N_("Apprentice"),
    Party.TUTOR: N_("Tutor"),
    Party.SUPERVISOR: N_("Supervisor"),
}
