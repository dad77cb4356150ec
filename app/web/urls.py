"""How the pages of a review, a work situation and an apprenticeship are addressed: one place
for routes, templates, mail and the PDF (a link in any of them is built here)."""

from __future__ import annotations

from urllib.parse import urlencode


def apprenticeship_url(apprenticeship_id: int) -> str:
    return f"/apprenticeships/{apprenticeship_id}"


def review_url(apprenticeship_id: int, semester: int, action: str = "", anchor: str = "") -> str:
    """``/apprenticeships/3/reviews/2``, with an action (``sign``) or an anchor (``#c12``)."""
    url = f"{apprenticeship_url(apprenticeship_id)}/reviews/{semester}"
    return url + (f"/{action}" if action else "") + anchor


def situation_url(situation_id: int, action: str = "", **query: str | int) -> str:
    """``/work-situations/7``, with an action (``edit``) and query parameters."""
    url = f"/work-situations/{situation_id}" + (f"/{action}" if action else "")
    return url + (f"?{urlencode(query)}" if query else "")


def journal_url(apprenticeship_id: int, action: str = "", **query: str | int) -> str:
    """The apprentice's journal (``action="new"``: the form), with its filters."""
    url = f"{apprenticeship_url(apprenticeship_id)}/journal" + (f"/{action}" if action else "")
    return url + (f"?{urlencode(query)}" if query else "")
