"""The three parties to an apprenticeship: the one enum for whoever assesses and signs."""

from __future__ import annotations

import enum


class Party(enum.StrEnum):
    """The three roles a person can hold toward an apprenticeship."""

    APPRENTICE = "apprentice"
    TUTOR = "tutor"
    SUPERVISOR = "supervisor"
