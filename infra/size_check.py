"""Fail when a module is over 400 lines or a function over 60 (declarative tables excepted: they are not functions)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = ("core", "dispatch", "ingest", "streams", "web")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def problems(root: Path) -> list[str]:
    """Every module or function over its limit, as `path:line: what`."""
    found: list[str] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts or "node_modules" in path.parts:
                continue
            text = path.read_text()
            lines = text.count("\n")
            if lines > MAX_MODULE_LINES:
                found.append(f"{path}:1: module has {lines} lines (limit {MAX_MODULE_LINES})")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        found.append(
                            f"{path}:{node.lineno}: {node.name} has {length} lines (limit {MAX_FUNCTION_LINES})"
                        )
    return found


if __name__ == "__main__":
    report = problems(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
    print("\n".join(report) or "sizes: every module and function within limits")
    sys.exit(1 if report else 0)
