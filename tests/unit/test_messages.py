"""What users read carries no internal checklist ids: ``LOAD-03`` belongs in tests and comments."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import cnitool

CHECKLIST_ID = re.compile(r"\b(LOAD|VAL|EXEC|REQ|RES|CACHE|ADD|DEL|CHECK|GC|STATUS|VER|LOCK|CLI)-\d\d\b")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the strings that stand alone as statements: docstrings, never shown to users."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}


def test_no_checklist_id_in_any_string_the_code_can_print() -> None:
    offenders = []
    for path in sorted(Path(cnitool.__file__).parent.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                if CHECKLIST_ID.search(node.value):
                    offenders.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert offenders == []
