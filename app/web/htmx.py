"""What kind of answer a request wants: an htmx fragment, a full page, or JSON."""

from __future__ import annotations

from fastapi import Request


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def is_htmx_partial(request: Request) -> bool:
    """An htmx request that wants a fragment. History restores (back button with an empty
    cache) get the full page."""
    return is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")
