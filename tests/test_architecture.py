"""The shape of app/: no import cycle, dependencies that point one way, one templating factory.

These read the source (imports at any depth, function-level ones included), so a new module
that breaks the shape fails here before it confuses anyone."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from app.config import PROJECT_ROOT

APP = PROJECT_ROOT / "app"


def _modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """The app modules ``name`` imports (a package's own children are not counted)."""
    path = MODULES[name]
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        candidates: list[str] = []
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            candidates = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for candidate in candidates:
            while candidate and candidate not in MODULES:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name and not candidate.startswith(name + "."):
                targets.add(candidate)
    return targets


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for name in sorted(GRAPH):
        if name not in index:
            visit(name)
    return found


def test_there_is_no_import_cycle_inside_app() -> None:
    assert _cycles() == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """Guard for the test above: a made-up cycle is reported."""
    GRAPH["app.fake_a"], GRAPH["app.fake_b"] = {"app.fake_b"}, {"app.fake_a"}
    try:
        assert ["app.fake_a", "app.fake_b"] in _cycles()
    finally:
        del GRAPH["app.fake_a"], GRAPH["app.fake_b"]


def _services() -> list[str]:
    return [name for name in MODULES if name.startswith("app.services")]


def test_services_never_import_routes() -> None:
    offenders = {
        name: sorted(t for t in GRAPH[name] if t.startswith("app.routes") or t == "app.main")
        for name in _services()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_templating_factory_builds_a_jinja_environment() -> None:
    """Pages, mail and the PDF render through app.web.templating; nothing else may build its
    own environment or load templates from disk."""
    builders = sorted(
        name
        for name, path in MODULES.items()
        if any(
            marker in path.read_text(encoding="utf-8")
            for marker in ("Environment(", "FileSystemLoader", "Jinja2Templates(")
        )
    )
    assert builders == ["app.web.templating"]


def test_the_storage_and_the_mail_transport_import_no_domain() -> None:
    for name in ("app.services.documents.storage", "app.services.notifications.sender"):
        domain = sorted(
            t
            for t in GRAPH[name]
            if t.startswith("app.services.")
            and t not in ("app.services.errors", "app.services.validation")
        )
        assert domain == [], name


def test_the_readme_layout_names_every_service_module() -> None:
    """The README's layout section says where each kind of rule lives: it names every package
    and module under app/services/ and app/web/, so a new one must be placed there too."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") : readme.index("## Tests and CI")]
    spans = re.findall(r"`([^`]+)`", layout)
    words = {word for span in spans for word in re.findall(r"\w+", span)}
    missing = sorted(
        name
        for name in MODULES
        if name.startswith(("app.services.", "app.web.")) and name.rsplit(".", 1)[-1] not in words
    )
    assert missing == []
