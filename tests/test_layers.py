"""The package reads as the pipeline: no module imports one of a later layer.

`LAYERS` is the one definition of the order (docs/CONTRACTS.md points here). A module belongs to the
layer of the longest prefix that names it; it may import from its own layer and those before it.
Every import counts: at the top, inside functions (lazy) and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "gesture_audit"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("gesture_audit", "gesture_audit.i18n", "gesture_audit.results", "gesture_audit.runtime")),
    (
        "load",
        (
            "gesture_audit.load",
            "gesture_audit.load_video",
            "gesture_audit.archives",
            "gesture_audit.remote",
            "gesture_audit.exports",
        ),
    ),
    ("detect", ("gesture_audit.detect",)),
    ("identify", ("gesture_audit.identify",)),  # faces against the candidate gallery, beside classify
    ("classify", ("gesture_audit.classify",)),
    ("judge", ("gesture_audit.judge",)),
    ("report", ("gesture_audit.report",)),
    # on top: what runs the stages (the Auditor, a folder scan, Ray, the eval harness, the renderer)
    (
        "run",
        (
            "gesture_audit.audit",
            "gesture_audit.scan",
            "gesture_audit.distributed",
            "gesture_audit.evaluate",
            "gesture_audit.synth",
        ),
    ),
    ("edge", ("gesture_audit.serve", "gesture_audit.commands", "gesture_audit.cli", "gesture_audit.__main__")),
]


def layer_of(module: str) -> int:
    best, index = "", -1
    for k, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, index = prefix, k
    assert index >= 0, f"{module} is in no layer: add it to LAYERS"
    return index


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, module) of every gesture_audit module `path` imports, relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            # `from gesture_audit.x import y`: y may itself be a module of package x
            found += [
                (node.lineno, f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base)
                for alias in node.names
            ]
    return [(line, name) for line, name in found if name == "gesture_audit" or name.startswith("gesture_audit.")]


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or path.is_dir()


def test_no_module_imports_a_later_layer():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        mine = layer_of(module)
        for line, other in imported(path, module):
            if layer_of(other) > mine:
                upward.append(
                    f"{path.relative_to(PACKAGE.parent)}:{line} ({LAYERS[mine][0]}) imports "
                    f"{other} ({LAYERS[layer_of(other)][0]})"
                )
    assert upward == [], "imports against the pipeline's order:\n" + "\n".join(upward)


def test_the_layer_test_sees_an_upward_import(tmp_path):
    """The check itself: a detect module importing classify, lazily inside a function, is found."""
    source = tmp_path / "gesture_audit" / "detect" / "x.py"
    source.parent.mkdir(parents=True)
    source.write_text("def f():\n    from gesture_audit.classify.fingers import finger_states\n")
    ((line, other),) = imported(source, "gesture_audit.detect.x")
    assert line == 2 and layer_of(other) > layer_of("gesture_audit.detect.x")
