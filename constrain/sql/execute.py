"""Running candidate queries safely: read-only by SQLite's authorizer, bounded in time and size, comparable results.

A candidate query is untrusted text (a model wrote it), so :func:`execute` does not rely on how the
connection was opened, nor on the grammar that produced the query. For the duration of one statement it
installs:

* an authorizer that allows reading (``SELECT``, reading columns, recursive CTEs) and calling functions
  from an allowed set, and denies everything else: writes, ``CREATE``/``DROP`` (temporary objects too),
  ``ATTACH``/``DETACH``, every ``PRAGMA`` (``PRAGMA query_only = 0`` included), transactions and
  savepoints, ``ANALYZE``, ``REINDEX``, ``ALTER``, and ``VACUUM`` (which SQLite runs as an ``ATTACH``).
  Table-valued functions (``json_each``, ``pragma_table_info``) are refused too: SQLite authorizes them
  as writes to the schema or as pragmas;
* size limits (``sqlite3.Connection.setlimit``): strings and blobs of at most ``max_bytes`` (so
  ``printf('%.*c', 900000000, 'x')``, ``zeroblob``, ``randomblob`` or ``group_concat`` cannot build
  gigabytes in one step that no time limit can interrupt), short ``LIKE``/``GLOB`` patterns, shallow
  expressions and few compound terms;
* a progress handler that interrupts the statement after ``timeout_s`` seconds.

Each is removed and the connection's previous limits restored afterwards. Every failure (a denial, a
limit, the time limit, ``MemoryError``) is recorded in the returned :class:`Execution`, never raised.
What remains: one call of a function whose cost is quadratic in its arguments' sizes (``instr`` over two
strings near ``max_bytes``) runs to its end, a few seconds at the default limit. On Python 3.10, which
lacks ``Connection.setlimit``, sizes are bounded only by SQLite's compiled-in limits.
"""
from __future__ import annotations

import functools
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

__all__ = ["DEFAULT_MAX_BYTES", "DENIED_FUNCTIONS", "Execution", "builtin_functions", "execute", "result_key"]

DEFAULT_MAX_BYTES = 1_000_000
"""The longest string or blob (and row) a statement may build or read, in bytes."""

LIMITS = {
    "SQLITE_LIMIT_LIKE_PATTERN_LENGTH": 500,
    "SQLITE_LIMIT_EXPR_DEPTH": 200,
    "SQLITE_LIMIT_COMPOUND_SELECT": 50,
    "SQLITE_LIMIT_SQL_LENGTH": 100_000,
}
"""Further limits while a statement runs (never looser than what the connection already has)."""

DENIED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer"})
"""Functions never allowed, whatever the caller passes: they reach outside the database."""

_ALLOWED_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE})

_ACTION_NAMES = {
    getattr(sqlite3, f"SQLITE_{name}"): name.replace("_", " ")
    for name in """CREATE_INDEX CREATE_TABLE CREATE_TEMP_INDEX CREATE_TEMP_TABLE CREATE_TEMP_TRIGGER CREATE_TEMP_VIEW
    CREATE_TRIGGER CREATE_VIEW DELETE DROP_INDEX DROP_TABLE DROP_TEMP_INDEX DROP_TEMP_TABLE DROP_TEMP_TRIGGER
    DROP_TEMP_VIEW DROP_TRIGGER DROP_VIEW INSERT PRAGMA READ SELECT TRANSACTION UPDATE ATTACH DETACH ALTER_TABLE
    REINDEX ANALYZE CREATE_VTABLE DROP_VTABLE FUNCTION SAVEPOINT RECURSIVE""".split()
    if hasattr(sqlite3, f"SQLITE_{name}")
}

_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_temp_master", "sqlite_schema", "sqlite_temp_schema"})

_CORE_FUNCTIONS = frozenset("""abs avg changes char coalesce count date datetime glob group_concat hex ifnull
instr julianday length like likelihood likely lower ltrim max min nullif printf quote random randomblob replace round
rtrim soundex strftime substr sum time total trim typeof unicode unlikely upper zeroblob""".split())


@dataclass
class Execution:
    """What running one query gave: its rows, or the error that stopped it."""

    sql: str
    rows: list[tuple[Any, ...]] | None
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None


@functools.lru_cache(maxsize=1)
def builtin_functions() -> frozenset[str]:
    """The built-in SQL functions of the running SQLite (``PRAGMA function_list``), less ``DENIED_FUNCTIONS``.

    Falls back to SQLite's core functions where the pragma is compiled out.
    """
    conn = sqlite3.connect(":memory:")
    try:
        names = frozenset(str(row[0]).lower() for row in conn.execute("PRAGMA function_list") if row[1])
    except sqlite3.Error:
        names = _CORE_FUNCTIONS
    finally:
        conn.close()
    return names - DENIED_FUNCTIONS


def _describe(action: int, arg1: str | None, arg2: str | None, database: str | None) -> str:
    """An authorizer request in words, such as ``ATTACH 'x.db'`` or ``function load_extension``."""
    if action == sqlite3.SQLITE_FUNCTION:
        return f"function {arg2}"
    words = [_ACTION_NAMES.get(action, f"action {action}")]
    if arg1:
        words.append(repr(arg1) if action == sqlite3.SQLITE_ATTACH else arg1)
    if arg2 and action in (sqlite3.SQLITE_PRAGMA, sqlite3.SQLITE_UPDATE):
        words.append(f"= {arg2}" if action == sqlite3.SQLITE_PRAGMA else f"({arg2})")
    if database and database != "main":
        words.append(f"in {database}")
    return " ".join(words)


def _main_denial(denied: list[tuple[str | None, str]]) -> str:
    """The denial to report: the first one on a user's object, not SQLite's own schema tables when it can."""
    return next((what for target, what in denied if target not in _SCHEMA_TABLES), denied[0][1])


def _set_limits(conn: sqlite3.Connection, max_bytes: int) -> dict[int, int]:
    """Tighten the connection's limits for one statement; returns the previous values to restore."""
    if not hasattr(conn, "setlimit"):
        return {}
    wanted = {sqlite3.SQLITE_LIMIT_LENGTH: max_bytes}
    wanted.update({getattr(sqlite3, name): value for name, value in LIMITS.items()})
    previous = {}
    for limit, value in wanted.items():
        before = conn.getlimit(limit)
        previous[limit] = before
        conn.setlimit(limit, min(value, before))
    return previous


def execute(
    conn: sqlite3.Connection,
    sql: str,
    *,
    timeout_s: float = 2.0,
    max_rows: int = 10_000,
    max_bytes: int = DEFAULT_MAX_BYTES,
    functions: Iterable[str] | None = None,
) -> Execution:
    """Run one read-only statement ``sql`` on ``conn`` within a time and size budget; failures are recorded.

    Whatever the connection allows, the statement may only read and call ``functions`` (default:
    :func:`builtin_functions`; a grammar's own set is tighter); anything else is an ``Execution`` whose
    error starts with ``"not authorized"``. ``timeout_s`` bounds the running time (a progress handler),
    ``max_bytes`` the size of any string, blob or row, and rows beyond ``max_rows`` are an error (a runaway
    join), never silently cut. See the module documentation for the exact rules.
    """
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be at least 1, not {max_bytes}")
    start = time.perf_counter()
    deadline = start + timeout_s
    allowed = builtin_functions() if functions is None else frozenset(f.lower() for f in functions) - DENIED_FUNCTIONS
    inner = builtin_functions()
    denied: list[tuple[str | None, str]] = []
    selects: list[int] = []

    def interrupt() -> int:
        return 1 if time.perf_counter() > deadline else 0

    def authorize(action: int, arg1: str | None, arg2: str | None, database: str | None, source: str | None) -> int:
        if action in _ALLOWED_ACTIONS:
            if action == sqlite3.SQLITE_SELECT:
                selects.append(action)
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION and arg2 is not None:
            name = arg2.lower()
            if name in allowed or (source is not None and name in inner):
                return sqlite3.SQLITE_OK
        denied.append((arg1, _describe(action, arg1, arg2, database)))
        return sqlite3.SQLITE_DENY

    def failed(message: str) -> Execution:
        if denied:
            message = f"not authorized: {_main_denial(denied)} (a query may only read)"
        return Execution(sql, None, message, time.perf_counter() - start)

    previous: dict[int, int] = {}
    cursor: sqlite3.Cursor | None = None
    try:
        previous = _set_limits(conn, max_bytes)
        conn.set_authorizer(authorize)
        conn.set_progress_handler(interrupt, 1000)
        cursor = conn.execute(sql)
        rows = cursor.fetchmany(max_rows + 1)
        if denied:
            return failed("")
        if not selects:
            return failed("not authorized: not a SELECT statement (a query may only read)")
        if len(rows) > max_rows:
            return failed(f"more than {max_rows} rows")
        return Execution(sql, [tuple(r) for r in rows], None, time.perf_counter() - start)
    except sqlite3.OperationalError as e:
        return failed("interrupted: time limit of %.1f s" % timeout_s if "interrupt" in str(e) else str(e))
    except sqlite3.DataError as e:
        too_big = "too big" in str(e)
        return failed(f"{e} (limit: {max_bytes} bytes)" if too_big else f"{type(e).__name__}: {e}")
    except MemoryError:
        return failed("out of memory")
    except Exception as e:  # untrusted SQL: every failure is a result, never an exception
        return failed(f"{type(e).__name__}: {e}")
    finally:
        _restore(conn, cursor, previous)


def _restore(conn: sqlite3.Connection, cursor: sqlite3.Cursor | None, limits: dict[int, int]) -> None:
    """Close the statement, remove the handlers and put the limits back.

    A ``ProgrammingError`` here means the connection is closed or belongs to another thread; then the
    first call in ``execute`` failed the same way and nothing was installed, so nothing is left to undo.
    """
    try:
        if cursor is not None:
            cursor.close()
        conn.set_progress_handler(None, 0)
        conn.set_authorizer(None)
        for limit, value in limits.items():
            conn.setlimit(limit, value)
    except sqlite3.ProgrammingError:
        pass


def result_key(rows: list[tuple[Any, ...]], ordered: bool = False) -> tuple:
    """A hashable form of a result set: the rows as a multiset (or in order when ``ordered``)."""
    normal = [tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in rows]
    if ordered:
        return tuple(normal)
    return tuple(sorted(Counter(normal).items(), key=repr))
