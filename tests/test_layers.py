"""The layers point one way: every import of every module (top level and inside
functions) is read with `ast`, and the suite fails on a cycle between modules or an
import against the layer order (ARCHITECTURE.md):

    common  <  models  <  explain  <  pipelines  <  tuning  <  pipelines.cli

An import inside a function is for an optional or heavy dependency only, and says
why in a comment on its line (or above its group of imports).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "models", "explain", "pipelines", "tuning")
LAYERS = ("common", "models", "explain", "pipelines", "tuning", "pipelines.cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def layer(module: str) -> int:
    """The index in LAYERS of the longest prefix naming `module`'s layer."""
    best = -1
    for i, name in enumerate(LAYERS):
        if module == name or module.startswith(name + "."):
            if best < 0 or len(name) > len(LAYERS[best]):
                best = i
    return best


def _resolve(name: str) -> str | None:
    """The project module an imported name lives in (a module or a name inside one)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _in_type_checking(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _commented(lines: list[str], start: int, end: int) -> bool:
    """A comment on the import's lines, or above its group of consecutive imports."""
    if any("#" in line for line in lines[start:end]):
        return True
    above = start - 1
    while above >= 0 and lines[above].strip().startswith(("from ", "import ", ")")):
        if "#" in lines[above]:
            return True
        above -= 1
    return above >= 0 and lines[above].strip().startswith("#")


def lazy_imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported name, line, has a comment) of every import inside a function,
    project or third-party."""
    path = MODULES[module]
    source = path.read_text()
    lines = source.splitlines()
    out = []
    for fn in ast.walk(ast.parse(source)):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    name = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                    commented = _commented(lines, node.lineno - 1, node.end_lineno)
                    out.append((name or ".", node.lineno, commented))
    return out


def imports(module: str) -> list[tuple[str, int, bool, bool]]:
    """(imported project module, line, inside a function, has a comment) per import."""
    path = MODULES[module]
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    out = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        if _in_type_checking(node, parents):
            continue  # annotations only: no import at run time
        inside, parent = False, parents.get(node)
        while parent is not None:
            if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef):
                inside = True
            parent = parents.get(parent)
        commented = _commented(lines, node.lineno - 1, node.end_lineno)
        targets = {t for t in map(_resolve, names) if t and t != module}
        out += [(t, node.lineno, inside, commented) for t in sorted(targets)]
    return out


GRAPH = {m: imports(m) for m in MODULES}


def test_every_module_is_in_a_layer():
    assert not [m for m in MODULES if layer(m) < 0]


def test_imports_point_down_the_layers():
    wrong = [
        f"{m}:{line} imports {t} ({LAYERS[layer(m)]} may not import {LAYERS[layer(t)]})"
        for m, edges in GRAPH.items()
        for t, line, _, _ in edges
        if layer(t) > layer(m)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    """Tarjan's strongly connected components over the module graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in {t for t, *_ in GRAPH[v]}:
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
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


def test_imports_inside_functions_say_why():
    silent = sorted({
        f"{m}:{line} imports {name} inside a function without a comment saying why"
        for m in MODULES
        for name, line, commented in lazy_imports(m)
        if not commented
    })
    assert not silent, "\n".join(silent)


@pytest.mark.parametrize("module", ["common", "models"])
def test_leaves_import_no_upper_layer(module):
    """models/ builds on keras, tf and numpy (and the leaf); common/ on nothing of ours."""
    above = [t for m, edges in GRAPH.items() if layer(m) == LAYERS.index(module)
             for t, *_ in edges if layer(t) > LAYERS.index(module)]
    assert not above
