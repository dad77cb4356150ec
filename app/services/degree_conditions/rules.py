"""The rules of the degree's other conditions: the English levels and how they compare, and
how long the evidence's texts may be."""

from __future__ import annotations

from app.models import CEFR_LEVELS

TEST_NAME_MAX = 100
SCORE_MAX = 40
HOST_MAX = 200


def cefr_rank(level: str | None) -> int:
    """A CEFR level's rank (A1 lowest); -1 for none or an unknown one."""
    return CEFR_LEVELS.index(level) if level in CEFR_LEVELS else -1


def best_english(levels: list[str]) -> str | None:
    return max(levels, key=cefr_rank, default=None)


def meets_english(best: str | None, required: str) -> bool:
    return cefr_rank(best) >= cefr_rank(required)
