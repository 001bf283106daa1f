"""The modules of pydirectus import each other without circles, and ``pydirectus.query`` stays pure.

The graph is read from the source with ``ast``; nothing is imported. Every import of a
pydirectus module counts, wherever it stands: at module level, inside a function, or
under ``if TYPE_CHECKING:`` (a circle through a type-only import is still a circle in
the design). A node is a module; a package stands for its ``__init__.py``:

- ``import pydirectus.errors``, ``from pydirectus.errors import X``, ``from . import errors``
  and ``from .errors import X`` are all an edge to ``pydirectus.errors``, not to the
  package ``pydirectus`` that Python runs first;
- ``from pydirectus import DirectusClient`` (a name, not a submodule) is an edge to the
  package ``pydirectus``, and a package's ``__init__`` that re-exports its submodules
  has an edge to each of them.

Modules loaded by name (``importlib.import_module``) are not seen.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Mapping
from pathlib import Path

PACKAGE = "pydirectus"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE

#: Circles that go through modules being restructured elsewhere, each spelled as the
#: failure message spells it ("pydirectus.a -> pydirectus.b -> pydirectus.a"), with a
#: comment naming the import that closes it. Each is pending: empty this set as they are
#: opened (the test fails on an entry that no longer exists, so the list cannot go stale).
#: None is pending: collection.py <-> handle_methods.py went with handle_methods.py.
PENDING_CYCLES: frozenset[str] = frozenset()

#: What ``pydirectus.query`` (pure: no I/O, nothing of the client) may reach, besides
#: its own modules: the error tree, the redaction it uses, and the pure JSON encoder
#: that filter values and write data share.
QUERY_MAY_REACH = frozenset({"pydirectus.errors", "pydirectus.redact", "pydirectus.encoding"})

Graph = Mapping[str, Mapping[str, int]]


def _module_files() -> dict[str, tuple[Path, bool]]:
    """Return module name -> (file, whether it is a package's ``__init__``)."""
    modules: dict[str, tuple[Path, bool]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        modules[".".join(parts)] = (path, is_package)
    return modules


def _targets(node: ast.Import | ast.ImportFrom, package: str) -> list[tuple[str, ...]]:
    """Return, for each name an import statement loads, the modules it may stand for.

    Relative imports are resolved; the first candidate that is a module is the one.
    """
    if isinstance(node, ast.Import):
        return [(alias.name,) for alias in node.names]
    if node.level:
        base = package.split(".")
        base = base[: len(base) - (node.level - 1)]
        module = ".".join([*base, node.module] if node.module else base)
    else:
        module = node.module or ""
    # `from a import b` loads the submodule a.b when there is one, else a name of a.
    return [
        (f"{module}.{alias.name}", module) if alias.name != "*" else (module,)
        for alias in node.names
    ]


def _imports() -> tuple[dict[str, dict[str, int]], list[str]]:
    """Return module -> {imported module: line of its first import}, and what is unresolved."""
    modules = _module_files()
    graph: dict[str, dict[str, int]] = {}
    unresolved: list[str] = []
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        edges = graph.setdefault(name, {})
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for candidates in _targets(node, package):
                if candidates[-1].partition(".")[0] != PACKAGE:
                    continue
                module = next((c for c in candidates if c in modules), None)
                if module is None:
                    where = path.relative_to(ROOT.parent)
                    line = f"  {where}:{node.lineno}: {candidates[-1]}"
                    if line not in unresolved:
                        unresolved.append(line)
                elif module != name:
                    edges.setdefault(module, node.lineno)
    return graph, unresolved


@functools.cache
def import_graph() -> dict[str, dict[str, int]]:
    """Return module -> {imported pydirectus module: line of its first import}."""
    return _imports()[0]


def _strongly_connected(graph: Graph) -> list[set[str]]:
    """Return the strongly connected components of the graph (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component: set[str] = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def cycles(graph: Graph, limit: int = 200) -> list[tuple[str, ...]]:
    """Return the graph's elementary cycles (up to ``limit``), each once, from its least module."""
    found: list[tuple[str, ...]] = []

    def walk(path: list[str], component: set[str]) -> None:
        # Extend `path` by later modules of its component, back to where it started.
        start = path[0]
        for w in sorted(graph[path[-1]]):
            if len(found) >= limit:
                return
            if w == start:
                found.append(tuple(path))
            elif w in component and w > start and w not in path:
                walk([*path, w], component)

    for component in _strongly_connected(graph):
        if len(component) > 1:
            for start in sorted(component):
                walk([start], component)
    return sorted(found)


def spell(cycle: Iterable[str]) -> str:
    """Return a cycle as ``a -> b -> a``."""
    names = list(cycle)
    return " -> ".join([*names, names[0]])


def _where(graph: Graph, cycle: tuple[str, ...]) -> str:
    """Return the file and line of each import that makes up a cycle."""
    modules = _module_files()
    steps = []
    for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True):
        path = modules[a][0].relative_to(ROOT.parent)
        steps.append(f"      {path}:{graph[a][b]} imports {b}")
    return "\n".join(steps)


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert "pydirectus.query.query" in graph["pydirectus.query"]  # a package re-exporting
    assert "pydirectus.errors" in graph["pydirectus.exceptions"]  # `from . import errors`
    assert "pydirectus" not in graph["pydirectus.exceptions"]
    assert "pydirectus.client" in graph["pydirectus"]  # under TYPE_CHECKING


def test_every_import_names_a_module() -> None:
    # Else an edge would be missing from the graph.
    unresolved = _imports()[1]
    assert not unresolved, "imports of no pydirectus module:\n" + "\n".join(unresolved)


def test_cycles_are_found() -> None:
    graph = {"a": {"b": 1}, "b": {"c": 1, "a": 1}, "c": {"b": 1, "d": 1}, "d": {}}
    assert [spell(c) for c in cycles(graph)] == ["a -> b -> a", "b -> c -> b"]


def test_no_import_cycles() -> None:
    graph = import_graph()
    found = cycles(graph)
    unexpected = [c for c in found if spell(c) not in PENDING_CYCLES]
    assert not unexpected, "import cycles in pydirectus/:\n" + "\n".join(
        f"  {spell(c)}\n{_where(graph, c)}" for c in unexpected
    )


def test_pending_cycles_still_exist() -> None:
    found = {spell(c) for c in cycles(import_graph())}
    opened = sorted(PENDING_CYCLES - found)
    assert not opened, "no longer a cycle; remove from PENDING_CYCLES:\n" + "\n".join(
        f"  {c}" for c in opened
    )


def test_query_reaches_nothing_of_the_client() -> None:
    graph = import_graph()

    def inside(module: str) -> bool:
        return module == "pydirectus.query" or module.startswith("pydirectus.query.")

    seen = {m for m in graph if inside(m)}
    todo = sorted(seen)
    bad: list[str] = []
    while todo:
        module = todo.pop()
        for target, line in graph[module].items():
            if not inside(target) and target not in QUERY_MAY_REACH:
                bad.append(f"  {module} -> {target} (line {line})")
            elif target not in seen:
                seen.add(target)
                todo.append(target)
    assert not bad, "pydirectus.query reaches beyond its layer:\n" + "\n".join(sorted(bad))


def test_the_core_imports_no_face_and_no_io_library() -> None:
    # The core (plans, exchange, reads, schema, batches) is what both faces drive: it
    # reaches neither a face, a handle, a sender, nor an HTTP or async library.
    graph = import_graph()
    core = sorted(m for m in graph if m.startswith("pydirectus.core"))
    assert core, "no pydirectus.core modules found"
    allowed = ("pydirectus.core", "pydirectus.query", "pydirectus.errors", "pydirectus.redact",
               "pydirectus.encoding", "pydirectus.values", "pydirectus")
    bad = [f"  {module} -> {target}" for module in core for target in graph[module]
           if not target.startswith(allowed[:2]) and target not in allowed]
    assert not bad, "the core reaches beyond its layer:\n" + "\n".join(sorted(bad))
    import_lines = [line for module in core
                    for line in _module_files()[module][0].read_text().splitlines()
                    if line.startswith(("import ", "from ")) and any(
                        f" {library}" in line or f" {library}." in line
                        for library in ("requests", "urllib3", "asyncio", "aiohttp",
                                        "websockets"))]
    assert not import_lines, import_lines
