"""Path and query parameter types shared by the routes.

Ids are positive and within the database's integer range, so a number that cannot be an id
answers 422 before any query runs (PostgreSQL refuses an int4 parameter above 2³¹ − 1 and
SQLite one above 2⁶³ − 1: both used to end in a 500)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from app.services.validation import MAX_DB_INT

# A record's id in the path: /apprenticeships/{apprenticeship_id}.
PathId = Annotated[int, Path(ge=1, le=MAX_DB_INT)]
# A record's id in the query string (a filter): ?cohort=3.
QueryId = Annotated[int | None, Query(ge=1, le=MAX_DB_INT)]
# A semester of an apprenticeship (at most 12, as the apprenticeship's semester count).
Semester = Annotated[int, Path(ge=1, le=12)]
# A page number in a paged list.
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
