"""What a database holds, as far as a query constraint needs it: tables, their columns, functions, collations.

Read from a live SQLite connection (``sqlite_master``, ``PRAGMA table_xinfo``, ``PRAGMA function_list``), so
the names are exactly the ones SQLite will resolve.
"""
from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass, field

__all__ = ["Schema", "read_schema", "schema_from_sql", "connect_read_only"]


@dataclass(frozen=True)
class Schema:
    """Tables (name -> column names, in declaration order), SQL function names and collation names."""

    tables: dict[str, tuple[str, ...]]
    functions: frozenset[str] = field(default_factory=frozenset)
    collations: frozenset[str] = field(default_factory=lambda: frozenset({"BINARY", "NOCASE", "RTRIM"}))

    @property
    def columns(self) -> frozenset[str]:
        """Every column name of every table."""
        return frozenset(c for cols in self.tables.values() for c in cols)

    def create_statements(self) -> str:
        """The tables as compact ``CREATE TABLE`` lines (for prompts)."""
        return "\n".join(f"CREATE TABLE {t} ({', '.join(cols)});" for t, cols in self.tables.items())


def connect_read_only(path: str | os.PathLike) -> sqlite3.Connection:
    """A connection that cannot write: opened with ``mode=ro`` and ``PRAGMA query_only``."""
    uri = f"file:{os.path.abspath(os.fspath(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    conn.execute("PRAGMA query_only = 1")
    return conn


def read_schema(conn: sqlite3.Connection) -> Schema:
    """The user tables (not ``sqlite_*``) and views of ``conn`` with their columns, and its functions."""
    tables: dict[str, tuple[str, ...]] = {}
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY rowid"
    ).fetchall()
    for (name,) in rows:
        quoted = '"' + name.replace('"', '""') + '"'
        cols = tuple(r[1] for r in conn.execute(f"PRAGMA table_xinfo({quoted})").fetchall())
        tables[name] = cols
    try:
        functions = frozenset(r[0].lower() for r in conn.execute("PRAGMA function_list").fetchall())
    except sqlite3.Error:
        functions = frozenset()
    collations = frozenset(r[1].upper() for r in conn.execute("PRAGMA collation_list").fetchall())
    return Schema(tables, functions, collations or frozenset({"BINARY", "NOCASE", "RTRIM"}))


_INTERNAL_TABLE = re.compile(r"CREATE\s+TABLE\s+[\"'`\[]?sqlite_\w+[\"'`\]]?\s*\([^;]*\)\s*;?", re.I)


def schema_from_sql(create_statements: str) -> Schema:
    """The schema of ``CREATE TABLE`` statements, by running them in a fresh in-memory SQLite database.

    Definitions of SQLite's internal tables (``sqlite_sequence``, as dumps contain) are skipped.
    """
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(_INTERNAL_TABLE.sub("", create_statements))
        return read_schema(conn)
    finally:
        conn.close()
