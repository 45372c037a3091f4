"""The shape of the code base, checked: layers import downward only, the environment is read
in one place, no room grows too large. A newcomer can trust the folder tree as the map."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"
MODULES = sorted(PIPELINES.rglob("*.py"))

# Import order, lowest first: a module may import its own layer and any layer below it.
# Reports are drawn from a temporary publish extract, so publish sits below reports; the
# publish *asset* still runs last (its dependencies are given by definitions.py).
LAYERS = [
    {"settings", "partitions", "warehouse", "exports", "rules", "resources", "ducklake"},
    {"generate", "ingest"},
    {"lake"},
    {"transform"},
    {"analysis"},
    {"publish"},
    {"reports"},
    {"automation", "definitions", "cli"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MAX_LINES = 400
MAX_PARAMETERS = 8


def _top(path: Path) -> str:
    return path.relative_to(PIPELINES).parts[0].removesuffix(".py")


def _imported_layers(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = (
                [node.module]
                if node.module != "pipelines"
                else [f"pipelines.{alias.name}" for alias in node.names]
            )
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("pipelines.")}
    return found


def _environment_uses(tree: ast.AST) -> list[int]:
    """Lines touching os.environ or os.getenv / os.putenv."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
        and node.attr in {"environ", "getenv", "putenv", "unsetenv"}
    ]


def test_every_top_level_module_and_folder_has_a_layer() -> None:
    assert {_top(p) for p in MODULES} - {"__init__"} <= set(RANK)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PIPELINES)))
def test_layers_import_downward_only(path: Path) -> None:
    if _top(path) == "__init__":
        return
    own = RANK[_top(path)]
    upward = {layer for layer in _imported_layers(ast.parse(path.read_text())) if RANK[layer] > own}
    assert not upward, f"{path.name} ({_top(path)}) imports a later layer: {sorted(upward)}"


def test_only_settings_reads_the_environment() -> None:
    readers = {
        str(p.relative_to(PIPELINES)): lines
        for p in MODULES
        if (lines := _environment_uses(ast.parse(p.read_text())))
    }
    assert set(readers) == {"settings.py"}


def test_the_layering_rules_can_fail() -> None:
    tree = ast.parse("import os\nfrom pipelines.reports import html\nos.environ['X'] = '1'\n")
    assert _imported_layers(tree) == {"reports"}
    assert _environment_uses(tree) == [3]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PIPELINES)))
def test_rooms_stay_small(path: Path) -> None:
    """A module over 400 lines says why in its docstring ("Length: ..."); no function takes
    more than 8 parameters (self and cls not counted): group them in a dataclass."""
    text = path.read_text()
    tree = ast.parse(text)
    if len(text.splitlines()) > MAX_LINES:
        assert "Length:" in (ast.get_docstring(tree) or ""), f"{path.name} is long, say why"
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
            count = len([n for n in names if n not in {"self", "cls"}])
            assert count <= MAX_PARAMETERS, f"{path.name}:{node.lineno} {node.name}({count})"
