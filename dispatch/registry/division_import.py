"""Read a division list (code,name,level,parent_code) and report every bad row by line before anything is stored."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from dispatch.errors import Invalid
from dispatch.geometry.synthetic import Division

CODE_LENGTH = {"city": 6, "county": 6, "township": 9, "village": 12}
PARENT_LEVEL = {"county": "city", "township": "county", "village": "township"}
HEADER = ["code", "name", "level", "parent_code"]


class BadDivisionFile(Invalid):
    """The file cannot be imported; `problems` names each bad row."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s): " + "; ".join(problems[:5]))
        self.problems = problems


def read_checked(path: Path) -> list[Division]:
    """All rows of the file, or BadDivisionFile listing every problem with its line number."""
    problems: list[str] = []
    rows: list[tuple[int, Division]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != HEADER:
            raise BadDivisionFile([f"line 1: header must be {','.join(HEADER)}, found {header}"])
        for line, record in enumerate(reader, start=2):
            if len(record) != 4:
                problems.append(f"line {line}: expected 4 columns, found {len(record)}")
                continue
            code, name, level, parent = (field.strip() for field in record)
            if level not in CODE_LENGTH:
                problems.append(f"line {line}: level {level!r} is not one of {', '.join(CODE_LENGTH)}")
            elif not re.fullmatch(rf"[0-9]{{{CODE_LENGTH[level]}}}", code):
                problems.append(f"line {line}: {level} code {code!r} must have {CODE_LENGTH[level]} digits")
            if not name:
                problems.append(f"line {line}: name is empty")
            rows.append((line, Division(code, name, level, parent)))
    seen: dict[str, int] = {}
    for line, d in rows:
        if d.code in seen:
            problems.append(f"line {line}: code {d.code} repeats line {seen[d.code]}")
        seen.setdefault(d.code, line)
    levels = {d.code: d.level for _, d in rows}
    for line, d in rows:
        want = PARENT_LEVEL.get(d.level)
        if want and levels.get(d.parent_code) != want:
            problems.append(f"line {line}: parent {d.parent_code!r} of {d.code} is not a {want} in the file")
    if problems:
        raise BadDivisionFile(problems)
    return [d for _, d in rows]
