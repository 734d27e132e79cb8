"""No cycle between gridcloud's packages: each subpackage (``plan``, ``cost``, ``engine``, ...)
and top-level module (``facility``, ``deploy``, ``errors``, ...) is a node, and every import
of one by another an edge, wherever the import is: at module scope, inside a function (a lazy
import hides a cycle, it does not remove it) or under ``TYPE_CHECKING``. A cycle is printed
with the imports that make it."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import gridcloud

PACKAGE = Path(gridcloud.__file__).parent
Edges = dict[str, dict[str, list[str]]]


def node_of(module: str, names: set[str]) -> str:
    """``gridcloud.plan.model`` -> ``plan``; ``gridcloud`` itself -> ``gridcloud``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in names else "gridcloud"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every gridcloud module ``tree`` imports (line, dotted name)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            # ``from gridcloud import plan`` imports the subpackage
            found += [(node.lineno, f"{source}.{a.name}") for a in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "gridcloud"]


def package_graph(root: Path = PACKAGE) -> Edges:
    names = {p.stem for p in root.iterdir() if p.suffix == ".py" and p.stem != "__init__"}
    names |= {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}
    edges: Edges = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        source = node_of(module, names)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, name in imported(tree, module, path.name == "__init__.py"):
            target = node_of(name, names)
            if target != source:
                where = f"{path.relative_to(root.parent)}:{line} imports {name}"
                edges[source][target].append(where)
    return edges


def cycles(edges: Edges) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def describe(component: list[str], edges: Edges) -> str:
    members = set(component)
    lines = [" <-> ".join(component) + ":"]
    for source in component:
        for target, imports in sorted(edges[source].items()):
            if target in members:
                lines += [f"  {source} -> {target}: {imports[0]}"]
                lines += [f"    (and {len(imports) - 1} more)"] if len(imports) > 1 else []
    return "\n".join(lines)


def test_gridclouds_packages_import_each_other_without_a_cycle() -> None:
    edges = package_graph()
    assert {"plan", "cost", "engine", "program", "cli"} <= set(edges)  # it sees the package
    found = cycles(edges)
    assert not found, "package import cycles:\n" + "\n".join(describe(c, edges) for c in found)


def test_a_cycle_through_a_lazy_import_is_found(tmp_path: Path) -> None:
    """The check itself: a lazy import inside a function closes a cycle, and is named."""
    root = tmp_path / "gridcloud"
    for package in ("alpha", "beta"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "alpha" / "a.py").write_text("from gridcloud.beta import b\n")
    (root / "beta" / "b.py").write_text("def f():\n    from ..alpha import a\n")
    edges = package_graph(root)
    found = cycles(edges)
    assert found == [["alpha", "beta"]]
    assert "gridcloud/beta/b.py:2 imports gridcloud.alpha" in describe(found[0], edges)
