"""Structure checks run before the tests (scripts/test): import layers and cycles, and where SQL lives.

Imports: `lint-imports` (import-linter; the contracts are in pyproject.toml).
SQL: statements are built only under src/axiom_mcp/data/ and db/migrations/. Outside them no module
imports SQLAlchemy's statement constructors (select, insert, update, delete, text), and no string
starts like an SQL statement; db/'s connection set-up (PRAGMA, SET) and migration runner are the
exceptions.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "axiom_mcp"
SQL_HOMES = (PACKAGE / "data", PACKAGE / "db" / "migrations")
MIGRATION_RUNNER = PACKAGE / "db" / "migrate.py"
STORAGE = PACKAGE / "db"
CONSTRUCTORS = {"select", "insert", "update", "delete", "text", "union", "exists"}
SQL_TEXT = re.compile(r"^\s*(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|WITH\s+\w+\s+AS|PRAGMA|SET)\s")
CONNECTION_SETUP = re.compile(r"^\s*(PRAGMA|SET)\s")


def sql_outside_data() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == MIGRATION_RUNNER or any(home in path.parents for home in SQL_HOMES):
            continue
        tree = ast.parse(path.read_text(), str(path))
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                names = sorted(a.name for a in node.names if a.name in CONSTRUCTORS)
                if names:
                    found.append(f"{where}:{node.lineno}: imports {', '.join(names)} from {node.module}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.match(node.value):
                if STORAGE not in path.parents or not CONNECTION_SETUP.match(node.value):
                    found.append(f"{where}:{node.lineno}: SQL text {node.value[:60]!r}")
    return found


def main() -> int:
    status = 0
    problems = sql_outside_data()
    if problems:
        print("SQL outside src/axiom_mcp/data/ (move it into a data/ function):", *problems, sep="\n  ")
        status = 1
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout[result.stdout.find("Broken contracts"):] or result.stdout, result.stderr)
        status = 1
    print("structure: " + ("ok" if status == 0 else "BROKEN"))
    return status


if __name__ == "__main__":
    sys.exit(main())
