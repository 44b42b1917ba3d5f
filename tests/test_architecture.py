"""The package's layers: every import of every module goes one way, and no module cycles.

The layers, lowest first:

    measures, system -> scenario -> simulation -> analysis -> store -> report
    -> studies -> the façade (``socialscore/__init__.py``, ``cli.py``, ``__main__.py``)

A module may import from its own layer or a lower one. ``measures`` (plain
statistics: numbers in, numbers out) and ``system`` (the operating system and
the terminal) are both the bottom layer and may not import each other: neither
needs the other, and keeping them apart keeps each one usable alone (the
statistics without signal handling, the terminal helpers without numba).

Every import counts, wherever it is written: at module level, inside a
function (a lazy import) or under ``if TYPE_CHECKING:``. A lazy or type-only
import hides a dependency from Python's loader, not from the reader: the
module still needs the other one to work or to be understood.

Cycles are looked for among the same imports, lazy and type-only ones
included: a cycle that only a lazy import keeps from failing at load time
still means two modules that cannot be understood (or moved) one without the
other. An edge goes to the module named (``from a.b import c`` is an edge to
``a.b.c`` when that is a module, else to ``a.b``); the parent packages a
module's import runs on the way are not edges (``a.b``'s ``__init__`` runs
before ``a.b.c``, but that says nothing about the code's design).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "socialscore"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE

#: Each layer's rank, lowest first. Same rank, different layer: not allowed either.
RANK = {
    "measures": 0,
    "system": 0,
    "scenario": 1,
    "simulation": 2,
    "analysis": 3,
    "store": 4,
    "report": 5,
    "studies": 6,
    "façade": 7,
}
#: Modules directly in the package (``socialscore.cli``, ...) are the façade.
FACADE = "façade"

#: Imports against the order that are allowed, each with the reason:
#: ``(importing module, imported module): why``. Empty: none is needed today.
EXCEPTIONS: dict[tuple[str, str], str] = {}

#: Imports allowed to close a cycle, each with the reason (left out of the cycle search).
CYCLE_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("socialscore.store.catalogue", "socialscore.store.query"): (
        "RunStore.query(sql) is the documented Python face of `socialscore query` "
        "(docs/guarantees.md) and only forwards to query.run_query, which reads a "
        "RunStore's catalogue snapshot; both modules are the store layer, and the import "
        "is lazy (inside the method), so neither module's loading depends on the other's. "
        "Removing the method would change the public API."
    ),
}


@dataclass(frozen=True)
class Import:
    """One import of a socialscore module by another."""

    importer: str
    line: int
    imported: str
    kind: str  # "module-level", "lazy" (inside a function) or "type-checking"

    def __str__(self) -> str:
        return (
            f"{self.importer} (line {self.line}, {self.kind}, layer {layer(self.importer)}) "
            f"imports {self.imported} (layer {layer(self.imported)})"
        )


def module_name(path: Path) -> str:
    """``src/socialscore/report/sweep.py`` -> ``socialscore.report.sweep``."""
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the package by name (packages by their ``__init__``)."""
    return {module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}


def layer(module: str) -> str:
    """The layer of a socialscore module: its subpackage, or the façade."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANK) else FACADE


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _target(name: str, known: dict[str, Path]) -> str:
    """The most specific module an imported dotted name is: itself, or its nearest parent."""
    while name not in known and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def imports_of(module: str, source: str, known: dict[str, Path]) -> list[Import]:
    """Every import of a socialscore module in ``source``, with its line and kind."""
    found: list[Import] = []
    package = module if known[module].name == "__init__.py" else module.rsplit(".", 1)[0]

    def visit(node: ast.AST, kind: str) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, "type-checking")
            for child in node.orelse:
                visit(child, kind)
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            kind = "lazy" if kind == "module-level" else kind
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                target = _target(name, known)
                if target != module:
                    found.append(Import(module, node.lineno, target, kind))  # type: ignore[attr-defined]
        for child in ast.iter_child_nodes(node):
            visit(child, kind)

    visit(ast.parse(source), "module-level")
    return found


def all_imports() -> list[Import]:
    """Every import of a socialscore module in the package (one per module, line and target)."""
    known = modules()
    out: list[Import] = []
    for module, path in known.items():
        out += imports_of(module, path.read_text(encoding="utf-8"), known)
    return list(dict.fromkeys(out))


def against_the_order(imports: list[Import]) -> list[Import]:
    """The imports of a higher layer by a lower one, or between the two bottom layers."""
    bad = []
    for imp in imports:
        own, other = layer(imp.importer), layer(imp.imported)
        if own == other or RANK[other] < RANK[own]:
            continue
        if (imp.importer, imp.imported) not in EXCEPTIONS:
            bad.append(imp)
    return bad


def cycles(imports: list[Import]) -> list[list[Import]]:
    """One cycle through each group of modules tied in circles (Tarjan), as its imports.

    Every module of a group is on a cycle with the first one (in name order), so
    each group's cycle is the shortest through that module and the message names
    the group's other modules too.
    """
    edges: dict[str, dict[str, Import]] = {}
    for imp in imports:
        if (imp.importer, imp.imported) not in CYCLE_EXCEPTIONS:
            edges.setdefault(imp.importer, {}).setdefault(imp.imported, imp)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return [_path_back(min(group), min(group), edges, group) for group in groups]


def _path_back(
    start: str, goal: str, edges: dict[str, dict[str, Import]], group: set[str]
) -> list[Import]:
    """The shortest chain of imports from ``start`` back to ``goal`` inside one group."""
    queue: list[tuple[str, list[Import]]] = [(start, [])]
    seen: set[str] = set()
    while queue:
        v, chain = queue.pop(0)
        for w, imp in sorted(edges.get(v, {}).items()):
            if w == goal:
                return [*chain, imp]
            if w in group and w not in seen:
                seen.add(w)
                queue.append((w, [*chain, imp]))
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def test_every_module_belongs_to_a_layer():
    for module in modules():
        assert layer(module) in RANK, module


def test_every_import_follows_the_order_of_the_layers():
    bad = against_the_order(all_imports())
    assert not bad, (
        "imports against the order of the layers (lowest first: "
        + ", ".join(RANK)
        + "):\n"
        + "\n".join(str(imp) for imp in bad)
    )


def test_no_module_imports_itself_in_a_circle():
    found = cycles(all_imports())
    assert not found, "import cycles (lazy and type-checking imports count):\n" + "\n".join(
        " -> ".join([chain[0].importer, *(i.imported for i in chain)])
        + "\n  "
        + "\n  ".join(str(i) for i in chain)
        for chain in found
    )


def test_every_exception_is_still_needed():
    imports = all_imports()
    used = {(i.importer, i.imported) for i in imports}
    stale = [pair for pair in EXCEPTIONS if pair not in used]
    assert not stale, f"exceptions no import needs any more (remove them): {stale}"
    bad = {(i.importer, i.imported) for i in against_the_order(imports)}
    assert not any(pair in bad for pair in CYCLE_EXCEPTIONS)  # a cycle is not a way round
    stale = [(a, b) for a, b in CYCLE_EXCEPTIONS if not _path_exists(b, a, imports)]
    assert not stale, f"cycle exceptions that close no cycle any more (remove them): {stale}"


def _path_exists(start: str, goal: str, imports: list[Import]) -> bool:
    edges: dict[str, set[str]] = {}
    for i in imports:
        edges.setdefault(i.importer, set()).add(i.imported)
    seen, todo = {start}, [start]
    while todo:
        for w in edges.get(todo.pop(), set()):
            if w == goal:
                return True
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return False


#: What writing to disk looks like: modules imported for it, and the calls that do it.
WRITING_MODULES = {"os", "shutil", "tempfile", "pyarrow.parquet"}
WRITING_CALLS = {"open", "write_text", "write_bytes", "write_table", "mkdir", "to_parquet"}


def writes(source: str) -> list[str]:
    """Where a module's source imports a writing module or calls a writing function."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        if WRITING_MODULES & set(names):
            found.append(f"line {node.lineno}: imports {sorted(WRITING_MODULES & set(names))}")
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in WRITING_CALLS:
                found.append(f"line {node.lineno}: calls {name}")
    return found


def test_the_report_layer_renders_and_writes_nothing():
    # Its functions return strings (HTML); the studies write them (a run, a comparison, a sweep).
    found = {
        name: where
        for name, path in modules().items()
        if layer(name) == "report" and (where := writes(path.read_text(encoding="utf-8")))
    }
    assert not found, found


def test_writing_is_recognised():
    assert writes("import shutil\n") and writes("from pyarrow import parquet as pq\n")
    assert writes("def f(p):\n    p.write_text('x')\n")
    assert not writes("import json\n\ndef f(t):\n    return t.render()\n")


# -- the checks themselves, on made-up modules ------------------------------------------


FAKE = {
    "socialscore.report.sweep": Path("sweep.py"),
    "socialscore.studies.sweep": Path("sweep.py"),
    "socialscore.studies": Path("__init__.py"),
    "socialscore.measures.ties": Path("ties.py"),
    "socialscore.system.terminal": Path("terminal.py"),
}


@pytest.mark.parametrize(
    ("importer", "source", "kind", "line"),
    [
        ("socialscore.report.sweep", "from socialscore.studies import sweep\n", "module-level", 1),
        ("socialscore.report.sweep", "import socialscore.studies.sweep as s\n", "module-level", 1),
        ("socialscore.report.sweep", "def f():\n    from ..studies import sweep\n", "lazy", 2),
        (
            "socialscore.report.sweep",
            "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
            "    from socialscore.studies.sweep import SweepResult\n",
            "type-checking",
            4,
        ),
        (
            "socialscore.measures.ties",
            "from socialscore.system import terminal\n",
            "module-level",
            1,
        ),
    ],
)
def test_an_import_against_the_order_is_found_with_its_line_and_layers(  # type: ignore[no-untyped-def]
    importer, source, kind, line
):
    (bad,) = against_the_order(imports_of(importer, source, FAKE))
    assert (bad.importer, bad.line, bad.kind) == (importer, line, kind)
    text = str(bad)
    assert importer in text and bad.imported in text
    assert f"layer {layer(importer)}" in text and f"layer {layer(bad.imported)}" in text


def test_an_import_down_the_order_or_within_a_layer_is_allowed():
    source = "from socialscore.measures import ties\nfrom socialscore.studies import sweep\n"
    assert not against_the_order(imports_of("socialscore.studies.sweep", source, FAKE))


def test_a_cycle_through_a_lazy_import_is_found():
    known = {
        "socialscore.studies.grid": Path("grid.py"),
        "socialscore.studies.sensitivity": Path("s.py"),
    }
    imports = imports_of(
        "socialscore.studies.grid",
        "def f():\n    from socialscore.studies.sensitivity import sample\n",
        known,
    ) + imports_of(
        "socialscore.studies.sensitivity", "from socialscore.studies.grid import X\n", known
    )
    (cycle,) = cycles(imports)
    assert {i.importer for i in cycle} == set(known)
