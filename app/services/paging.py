"""Paged lists: how many pages, and which page a request may ask for."""

from __future__ import annotations

import math


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def clamp_page(page: int, pages: int) -> int:
    return min(max(page, 1), pages)
