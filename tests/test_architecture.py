"""The app layers of brygga hold (issue 14, ADR 0009): no app imports an app in a layer above it, no two apps
import each other (directly or round a longer cycle), and no module uses another app's private names. The
layers are defined once, in .importlinter (``lint-imports`` checks the same contracts in .ci/run); these tests
read them from there and check them with grimp, so ``make test`` keeps them too."""

from __future__ import annotations

import ast
import configparser
from collections import defaultdict
from functools import cache
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "brygga"
CONFIG = ROOT / ".importlinter"


@cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("brygga", cache_dir=None)


def layers() -> list[list[str]]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    raw = parser["importlinter:contract:app-layers"]["layers"]
    return [[app.strip() for app in line.split("|")] for line in raw.strip().splitlines()]


def app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


@cache
def app_edges() -> dict[tuple[str, str], tuple[str, str]]:
    """(importing app, imported app) -> one example import (importer module, imported module)."""
    edges: dict[tuple[str, str], tuple[str, str]] = {}
    g = graph()
    for module in sorted(g.modules):
        source = app_of(module)
        for imported in sorted(g.find_modules_directly_imported_by(module)):
            target = app_of(imported)
            if source and target and source != target:
                edges.setdefault((source, target), (module, imported))
    return edges


def apps() -> set[str]:
    return {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}


def test_every_app_has_a_layer() -> None:
    placed = [app for layer in layers() for app in layer]
    assert len(placed) == len(set(placed)), "an app is in two layers"
    assert set(placed) == apps(), "add the new app to a layer in .importlinter (ADR 0009)"


def test_no_app_imports_a_layer_above_it() -> None:
    level = {app: n for n, layer in enumerate(layers()) for app in layer}  # 0 is the top
    wrong = [
        f"{a} -> {b}: {example[0]} imports {example[1]}"
        for (a, b), example in sorted(app_edges().items())
        if a in level and b in level and level[a] >= level[b] and not (level[a] == level[b] and a == b)
    ]
    assert wrong == [], (
        "imports against the layers (or between independent apps of one layer):\n" + "\n".join(wrong)
    )


def _cycles(nodes: set[str], edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one app (Tarjan)."""
    successors: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        successors[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in successors[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a", "b", "c", "d"}, {("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [
        ["a", "b", "c"]
    ]


def test_no_import_cycle_between_apps() -> None:
    edges = app_edges()
    cycles = _cycles(apps(), set(edges))
    detail = [
        f"{a} -> {b}: {edges[(a, b)][0]} imports {edges[(a, b)][1]}"
        for cycle in cycles
        for a in cycle
        for b in cycle
        if (a, b) in edges
    ]
    assert cycles == [], "apps that import each other:\n" + "\n".join(detail)


# --- private names ------------------------------------------------------------------------------------------


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(source: str, module: str, where: str) -> list[str]:
    """Where ``module`` (its text ``source``) uses a private name (leading underscore) of a module of another
    app: by ``from brygga.x.y import _name``, ``from brygga.x import _module`` or ``alias._name`` on an
    imported module of another app."""
    own = app_of(module)
    tree = ast.parse(source, where)
    aliases: dict[str, str] = {}  # local name -> module of another app
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("brygga."):
            if app_of(node.module) == own:
                continue
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{where}:{node.lineno} imports {node.module}.{alias.name}")
                elif f"{node.module}.{alias.name}" in graph().modules:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("brygga.") and app_of(alias.name) != own and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and _private(node.attr)
        ):
            found.append(f"{where}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return found


def _module_files(app: str) -> list[Path]:
    return sorted(p for p in (PACKAGE / app).rglob("*.py") if "migrations" not in p.parts)


def test_the_private_name_check_finds_them() -> None:
    source = (
        "from brygga.sip import selectors as sip_selectors\n"
        "from brygga.sip.services import _event\n"
        "from brygga.cases.services import _lock\n"
        "sip_selectors._hidden\n"
    )
    assert len(private_uses(source, "brygga.cases.probe", "probe.py")) == 2  # its own app's _lock is fine


@pytest.mark.parametrize("app", sorted(apps()))
def test_no_module_uses_another_apps_private_names(app: str) -> None:
    found = []
    for path in _module_files(app):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found += private_uses(path.read_text(), module, str(path.relative_to(ROOT)))
    assert found == [], "make the name public where it is defined, or keep the use inside its app"


# --- the checked path ---------------------------------------------------------------------------------------

# Personal data a view or an API endpoint reaches only through the checked path (open_* or a selector that
# narrows to what the caller opened): never by querying these models itself.
GUARDED_MODELS = {"Person", "Case", "Sip", "Consent", "Message"}


def _is_view_or_api(path: Path) -> bool:
    name = path.name
    return name in {"views.py", "api.py"} or name.endswith(("_views.py", "_api.py"))


def direct_queries(source: str, where: str) -> list[str]:
    """``Model.objects`` of a guarded model in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, where)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "objects"
            and isinstance(node.value, ast.Name)
            and node.value.id in GUARDED_MODELS
        ):
            found.append(f"{where}:{node.lineno} queries {node.value.id}.objects")
    return found


def test_the_direct_query_check_finds_one() -> None:
    source = "def view(request):\n    return Case.objects.filter(pk=1), Unit.objects.all()\n"
    assert direct_queries(source, "views.py") == ["views.py:2 queries Case.objects"]


def test_views_and_api_modules_reach_personal_data_only_through_the_checked_path() -> None:
    modules = [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts and _is_view_or_api(p)]
    assert len(modules) > 20  # the check looks at the real modules
    found = [use for p in sorted(modules) for use in direct_queries(p.read_text(), str(p.relative_to(ROOT)))]
    assert found == [], "open the object through its open_* function or a selector that checks need-to-know"
