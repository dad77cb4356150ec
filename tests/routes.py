"""The app's routes as the tests walk them (FastAPI keeps included routers nested)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant


@dataclass(frozen=True)
class Route:
    path: str
    methods: frozenset[str]
    name: str
    dependant: Dependant


def api_routes(app: FastAPI) -> Iterator[Route]:
    """Every route with an endpoint (pages and API), included routers flattened."""

    def walk(routes: Any) -> Iterator[Route]:
        for route in routes:
            contexts = getattr(route, "effective_route_contexts", None)
            if contexts is not None:
                for context in contexts():
                    yield Route(
                        context.path,
                        frozenset(context.methods or ()),
                        context.name,
                        context.dependant,
                    )
            elif hasattr(route, "dependant"):
                yield Route(route.path, frozenset(route.methods), route.name, route.dependant)

    yield from walk(app.routes)


def parameters(dependant: Dependant) -> Iterator[tuple[str, Any]]:
    """(where, ModelField) of every parameter of a route and of its dependencies."""
    for kind in ("path_params", "query_params", "header_params", "cookie_params", "body_params"):
        for param in getattr(dependant, kind):
            yield kind.removesuffix("_params"), param
    for sub in dependant.dependencies:
        yield from parameters(sub)
