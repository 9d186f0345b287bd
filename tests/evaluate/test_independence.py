"""The judges stay out of generation: no generation module imports emocast.evaluate."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "emocast"
ALLOWED = {PKG / "cli" / "evaluate.py", PKG / "cli" / "benchmark.py", PKG / "cli" / "__init__.py",
           PKG / "benchmark.py"}  # the harness above generator and judges
JUDGE_USERS = {PKG / "dataset"}  # the training-data builder: the judges are its sync filter and emotion labeller,
# and it makes no video


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            names += [mod] + [f"{mod}.{a.name}" for a in node.names]
    return names


def test_no_generation_module_imports_a_judge():
    offenders = []
    for py in PKG.rglob("*.py"):
        if (PKG / "evaluate") in py.parents or py in ALLOWED or JUDGE_USERS & set(py.parents):
            continue
        for name in _imports(py):
            if "evaluate" in name.split("."):
                offenders.append(f"{py.relative_to(PKG.parent)} imports {name}")
    assert not offenders, offenders
    assert any(True for _ in PKG.rglob("*.py"))  # the scan saw the package
