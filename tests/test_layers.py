"""The package's layering: which stage package may import which, written down once (:data:`ALLOWED`),
checked over every import statement of ``emocast/`` (AST, lazy imports inside functions included)."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "emocast"

ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "assets": set(),
    "media": {"errors"},
    "speech": {"assets", "errors", "media"},
    "face": {"errors", "media"},
    "rig": {"face"},
    "emotion": {"assets", "errors", "rig"},
    "motion": {"emotion", "face", "rig", "speech"},
    "render": {"errors", "face", "rig"},
    "neural": {"emotion", "errors", "face", "media"},
    "options": {"emotion", "errors"},
    "engines": {"emotion", "errors", "face", "media", "motion", "neural", "options", "render", "rig", "speech"},
    "evaluate": {"assets", "emotion", "errors", "media", "speech"},
    "api": {"emotion", "engines", "errors", "face", "media", "neural", "options", "speech"},
    "scale": {"errors"},
    "batching": {"api", "errors", "media", "options", "scale"},
    "(root)": {"api", "batching", "errors", "options"},
    "benchmark": {"(root)", "api", "emotion", "errors", "evaluate", "media", "options"},
    "serve": {"(root)", "api", "emotion", "errors", "face", "media", "options", "speech"},
    "live": {"api", "emotion", "engines", "errors", "face", "media", "motion", "options", "speech"},
    "dataset": {"emotion", "errors", "evaluate", "face", "media", "neural", "render", "scale", "speech"},
    "train": {"dataset", "errors", "media", "neural"},
    "cli": {"(root)", "api", "batching", "benchmark", "dataset", "errors", "evaluate", "live", "media", "options",
            "serve", "train"},
    "__main__": {"cli"},
}
"""Stage (a sub-package or top-level module of ``emocast``) -> the stages it may import. Data flows
down: media, speech, face, rig, emotion, motion, render, neural, engines, api; the judges
(``evaluate``) never import the generator, and the benchmark harness sits above both."""


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(root)"


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def module_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (dotted names; a package stands for its
    ``__init__``), from every ``.py`` file of the package, lazy imports inside functions included."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        package = module if rel.name == "__init__" else module.rsplit(".", 1)[0]
        targets: list[str] = []
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets += [a.name for a in node.names if a.name.split(".")[0] == "emocast"]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(base + ([node.module] if node.module else []))
                elif node.module and node.module.split(".")[0] == "emocast":
                    base = node.module
                else:
                    continue
                subs = [f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}")]
                targets += subs or [base]
        graph.setdefault(module, set()).update(t for t in targets if t != module)
    return graph


def import_graph() -> dict[str, set[str]]:
    """Stage -> stages it imports (:func:`module_graph` with modules folded into their stage)."""
    graph: dict[str, set[str]] = {}
    for module, targets in module_graph().items():
        src = _stage(module)
        graph.setdefault(src, set()).update(t for t in map(_stage, targets) if t != src)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(n, path):
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return path + [n, m]
            if m not in state:
                found = visit(m, path + [n])
                if found:
                    return found
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n, [])
            if found:
                return found
    return None


def test_every_import_is_allowed():
    bad = {f"{a} -> {b}" for a, deps in import_graph().items() for b in deps if b not in ALLOWED.get(a, set())}
    assert not bad, f"imports outside the layering (tests/test_layers.py ALLOWED): {sorted(bad)}"


def test_the_layers_have_no_cycle():
    assert _cycle(ALLOWED) is None
    assert _cycle(import_graph()) is None, _cycle(import_graph())


def test_no_module_imports_itself_in_a_circle():
    """Within a stage too: no module reaches itself through its imports (a lazy import inside a function
    counts; it only hides the cycle from the interpreter). A package's ``__init__`` re-exporting its own
    modules is not a cycle unless one of them imports the package back."""
    cycle = _cycle(module_graph())
    assert cycle is None, " -> ".join(cycle)


def test_the_judges_never_import_the_generator():
    deps = import_graph()["evaluate"]
    assert not deps & {"api", "cli", "serve", "engines", "motion", "render", "rig", "benchmark", "(root)"}
