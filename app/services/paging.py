"""Paged lists: how many pages, and which page a request may ask for."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def clamp_page(page: int, pages: int) -> int:
    return min(max(page, 1), pages)


def query_string(filters: Mapping[str, Any], page: int) -> str:
    """A paged list's query string: its filters that are set, and the page past the first."""
    params = {key: value for key, value in filters.items() if value}
    if page > 1:
        params["page"] = page
    return urlencode(params)
