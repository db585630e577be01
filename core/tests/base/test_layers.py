"""The import graph of ganlab-core, read from the source with ``ast``: no circles, and every import points down.

Layers, bottom to top: errors/registry/lazy/fileio -> config -> results/images -> data, nn, losses, knn ->
features, metrics, sampling, evaluation -> train -> the CLI modules (``cli``, ``*.cli``, ``repro``) and the
reproduction harness. A module imports only from its own layer or below. Imports inside functions count (they are
real dependencies); ``if TYPE_CHECKING:`` blocks do not point the layers (annotations only), but core has no circle
even when they are counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGES = sorted(p.parent for p in Path(__file__).resolve().parents[3].glob("*/src/ganlab/*/__init__.py"))

LAYERS = [
    ("errors", "registry", "lazy", "fileio", "processes"),
    ("config",),
    ("results", "images"),
    ("data", "nn", "losses", "knn", "augment"),
    ("features", "metrics", "sampling", "evaluation"),
    ("train",),
]
LOWER = ("data", "nn", "knn", "features", "metrics", "sampling", "evaluation")


def modules(src: Path) -> dict[str, Path]:
    out = {}
    for p in src.rglob("*.py"):
        parts = list(p.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def imports(path: Path, name: str, known: dict[str, Path], type_checking: bool = False) -> set[str]:
    """The known modules ``name`` imports (outside TYPE_CHECKING blocks unless ``type_checking``)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]

    def resolve(target: str) -> str | None:
        while target and target not in known:
            target = target.rsplit(".", 1)[0] if "." in target else ""
        return target or None

    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking(node) and not type_checking:
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(resolve(alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                found.add(resolve(f"{target}.{alias.name}") or resolve(target))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return {m for m in found if m and m != name}


def graph(src: Path, type_checking: bool = False) -> dict[str, set[str]]:
    known = modules(src)
    return {m: imports(p, m, known, type_checking) for m, p in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return out


def is_cli(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last in ("cli", "repro") or module == "ganlab.core.cli"


def layer(module: str) -> int:
    """0.. for the core layers, len(LAYERS) for the CLI modules; the package root sits at the bottom."""
    if is_cli(module):
        return len(LAYERS)
    parts = module.split(".")
    top = parts[2] if len(parts) > 2 else ""
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    return 0 if not top else len(LAYERS)  # ganlab.core itself; unknown top-level modules count as top


def test_the_checker_finds_a_circle_and_a_layer_violation(tmp_path):
    pkg = tmp_path / "ganlab" / "core"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from ganlab.core import b\n")
    (pkg / "b.py").write_text("def f():\n    import ganlab.core.a\n")
    only_typing = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import ganlab.core.a\n"
    (pkg / "data" / "x.py").write_text(only_typing)
    (pkg / "data" / "y.py").write_text("from ganlab.core.train import Trainer\n")
    (pkg / "train.py").write_text("")
    g = graph(tmp_path)
    assert cycles(g) == [["ganlab.core.a", "ganlab.core.b"]]
    assert g["ganlab.core.data.x"] == set() and g["ganlab.core.data.y"] == {"ganlab.core.train"}
    assert graph(tmp_path, type_checking=True)["ganlab.core.data.x"] == {"ganlab.core.a"}


def test_core_has_no_circle_even_through_type_checking_imports():
    # the trainer imports the methods; a method is typed against train.run.Run, never against the trainer
    assert cycles(graph(SRC, type_checking=True)) == []


def test_core_has_no_import_circle():
    assert cycles(graph(SRC)) == []


@pytest.mark.parametrize("package", [p.parents[1] for p in PACKAGES], ids=lambda p: p.parent.name)
def test_no_package_has_an_import_circle(package):
    assert cycles(graph(package)) == []


def test_lower_layers_import_neither_train_nor_a_cli():
    bad = [
        f"{m} -> {t}"
        for m, targets in graph(SRC).items()
        if m.split(".")[2:3] and m.split(".")[2] in LOWER and not is_cli(m)
        for t in targets
        if t.startswith("ganlab.core.train") or is_cli(t)
    ]
    assert bad == []


def test_every_core_import_points_down():
    bad = [
        f"{m} (layer {layer(m)}) -> {t} (layer {layer(t)})"
        for m, targets in graph(SRC).items()
        for t in targets
        if t.startswith("ganlab.core") and layer(t) > layer(m)
    ]
    assert bad == []
