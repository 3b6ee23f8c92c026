"""``constrain.sql.execute`` on real SQLite files: read-only whatever the connection, bounded in size and time,
every failure recorded and nothing raised."""
from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

import constrain as c
import constrain.sql as sql
from constrain.sql.execute import builtin_functions

needs_setlimit = pytest.mark.skipif(not hasattr(sqlite3.Connection, "setlimit"),
                                    reason="Connection.setlimit needs Python 3.11")
CPU_BOUND_S = 20.0
ROWS = [("Ada", 3), ("Linus", 5)]
LIMITS = [sqlite3.SQLITE_LIMIT_LENGTH, sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, sqlite3.SQLITE_LIMIT_EXPR_DEPTH,
          sqlite3.SQLITE_LIMIT_COMPOUND_SELECT]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A SQLite file with a table, an index, a view that calls functions, and one 2,000-byte value."""
    path = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        """CREATE TABLE city (name TEXT, pop INTEGER);
           CREATE INDEX city_pop ON city (pop);
           CREATE TABLE note (body TEXT);
           CREATE VIEW ranked AS SELECT printf('%s!', name) AS shout, row_number() OVER (ORDER BY pop) AS k FROM city;
           INSERT INTO city VALUES ('Ada', 3), ('Linus', 5);"""
    )
    conn.execute("INSERT INTO note VALUES (?)", ("n" * 2000,))
    conn.commit()
    conn.close()
    return path


@pytest.fixture(params=["connect_read_only", "plain connection"])
def conn(request: pytest.FixtureRequest, db_path: Path) -> Iterator[sqlite3.Connection]:
    """The database through ``connect_read_only`` and through a plain read-write connection."""
    connection = sql.connect_read_only(db_path) if request.param == "connect_read_only" else sqlite3.connect(db_path)
    yield connection
    connection.close()


def contents(path: Path) -> tuple[list[Any], list[Any]]:
    """The database's schema and rows, read on a fresh connection."""
    fresh = sqlite3.connect(path)
    try:
        schema = fresh.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        return schema, fresh.execute("SELECT * FROM city ORDER BY name").fetchall()
    finally:
        fresh.close()


def refused(conn: sqlite3.Connection, text: str, **kwargs: Any) -> str:
    result = sql.execute(conn, text, **kwargs)
    assert not result.ok and result.rows is None, (text, result)
    assert result.error.startswith("not authorized"), (text, result.error)
    return result.error


def test_the_reported_escape_is_refused(conn: sqlite3.Connection, db_path: Path, tmp_path: Path) -> None:
    """``PRAGMA query_only = 0``, then ``ATTACH`` (which would create a file), then ``CREATE TABLE`` in it."""
    attached = tmp_path / "x.db"
    assert "PRAGMA query_only" in refused(conn, "PRAGMA query_only = 0")
    assert "ATTACH" in refused(conn, f"ATTACH '{attached}' AS e")
    assert not sql.execute(conn, "CREATE TABLE e.t(a)").ok
    assert not attached.exists()


WRITES = [
    "PRAGMA query_only = 0", "PRAGMA journal_mode = wal", "PRAGMA table_info(city)",
    "INSERT INTO city VALUES ('Grace', 7)", "REPLACE INTO city VALUES ('Grace', 7)", "UPDATE city SET pop = 0",
    "DELETE FROM city", "CREATE TABLE t (a)", "CREATE TABLE main.t (a)", "CREATE TEMP TABLE t (a)",
    "CREATE TEMP VIEW v AS SELECT 1", "CREATE INDEX i ON city (name)", "CREATE VIEW v AS SELECT 1",
    "CREATE TRIGGER tr AFTER INSERT ON city BEGIN SELECT 1; END", "DROP TABLE city", "DROP INDEX city_pop",
    "DROP VIEW ranked", "ALTER TABLE city ADD COLUMN area", "ALTER TABLE city RENAME TO town", "BEGIN",
    "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK", "SAVEPOINT s", "RELEASE s", "ANALYZE", "REINDEX", "REINDEX city_pop",
    "DETACH main", "VACUUM", "SELECT load_extension('mod_spatialite')",
    "SELECT * FROM pragma_table_info('city')", "", "-- only a comment",
]


def test_only_reads_are_authorized(conn: sqlite3.Connection, db_path: Path, tmp_path: Path) -> None:
    before = contents(db_path)
    for text in WRITES:
        refused(conn, text)
    vacuumed = tmp_path / "copy.db"
    assert "ATTACH" in refused(conn, f"VACUUM INTO '{vacuumed}'")
    assert not vacuumed.exists()
    assert contents(db_path) == before
    assert sql.execute(conn, "SELECT name, pop FROM city ORDER BY name").rows == ROWS


def test_denials_name_what_was_refused(conn: sqlite3.Connection) -> None:
    assert refused(conn, "DELETE FROM city") == "not authorized: DELETE city (a query may only read)"
    assert "function load_extension" in refused(conn, "SELECT load_extension('x')")
    assert "TRANSACTION BEGIN" in refused(conn, "BEGIN")
    assert "not a SELECT statement" in refused(conn, "")


def test_a_cached_statement_is_authorized_again(db_path: Path) -> None:
    """A write the connection prepared before (and caches) is checked again when ``execute`` runs it."""
    conn = sqlite3.connect(db_path)
    try:
        text = "INSERT INTO city VALUES ('Grace', 7)"
        conn.execute(text)
        conn.rollback()
        refused(conn, text)
        assert contents(db_path)[1] == sorted(ROWS)
    finally:
        conn.close()


def test_the_connection_is_left_as_it_was(db_path: Path) -> None:
    """No authorizer, progress handler or limit stays behind: the caller's plain connection can still write."""
    conn = sqlite3.connect(db_path)
    try:
        before = [conn.getlimit(k) for k in LIMITS] if hasattr(conn, "setlimit") else []
        refused(conn, "INSERT INTO city VALUES ('Grace', 7)")
        assert sql.execute(conn, "SELECT count(*) FROM city").rows == [(2,)]
        assert ([conn.getlimit(k) for k in LIMITS] if before else []) == before
        assert conn.execute("PRAGMA query_only").fetchone() == (0,)
        conn.execute("INSERT INTO city VALUES ('Grace', 7)")
        assert conn.execute("SELECT length(printf('%.*c', 2000000, 'x'))").fetchone() == (2000000,)
        conn.rollback()
    finally:
        conn.close()


def test_functions_allowed(conn: sqlite3.Connection) -> None:
    assert sql.execute(conn, "SELECT upper(name) FROM city ORDER BY pop").rows == [("ADA",), ("LINUS",)]
    assert "function upper" in refused(conn, "SELECT upper(name) FROM city", functions={"count"})
    assert sql.execute(conn, "SELECT count(*) FROM city", functions={"COUNT"}).rows == [(2,)]
    assert "load_extension" in refused(conn, "SELECT load_extension('x')", functions={"load_extension"})
    # a view's own definition may use any built-in function, the query itself only the allowed ones
    assert sql.execute(conn, "SELECT count(*) FROM ranked", functions={"count"}).rows == [(2,)]
    assert "load_extension" not in builtin_functions() and {"upper", "count", "like"} <= builtin_functions()


def test_sql_constraint_functions_are_the_grammars(db_path: Path) -> None:
    constraint = sql.from_sqlite(db_path)
    assert {"count", "upper", "like", "glob", "->"} <= constraint.functions
    assert not {"load_extension", "zeroblob", "randomblob", "row_number"} & constraint.functions


@needs_setlimit
@pytest.mark.parametrize("text", [
    "SELECT length(printf('%.*c', 900000000, 'x'))",
    "SELECT printf('%.*c', 700000000, 'x')",
    "SELECT length(printf('%0*d', 900000000, 1))",
])
def test_printf_cannot_build_huge_strings(conn: sqlite3.Connection, text: str) -> None:
    """SQLite stops ``printf`` at the length limit: a recorded "too big" error, or NULL (SQLite 3.40 returns NULL
    past the limit); never the string, never an exception, and a bounded amount of CPU."""
    start = time.process_time()
    result = sql.execute(conn, text, timeout_s=2)
    assert time.process_time() - start < CPU_BOUND_S
    assert (not result.ok and "too big" in result.error) or result.rows == [(None,)], result


@needs_setlimit
@pytest.mark.parametrize("text", [
    "SELECT zeroblob(2000000000)",
    "SELECT length(zeroblob(900000000) || 'x')",
    "SELECT length(randomblob(900000000))",
    "SELECT length(replace(printf('%.*c', 900000, 'x'), 'x', 'xx'))",
    "SELECT length(group_concat(printf('%.*c', 1000, 'x'))) FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL "
    "SELECT n + 1 FROM r LIMIT 5000) SELECT n FROM r)",
])
def test_blobs_and_strings_are_bounded(conn: sqlite3.Connection, text: str) -> None:
    start = time.process_time()
    result = sql.execute(conn, text, timeout_s=2)
    assert time.process_time() - start < CPU_BOUND_S
    assert not result.ok and "too big" in result.error and "1000000 bytes" in result.error, result


@needs_setlimit
def test_max_bytes(conn: sqlite3.Connection) -> None:
    assert sql.execute(conn, "SELECT length(body) FROM note").rows == [(2000,)]
    assert "too big" in sql.execute(conn, "SELECT body FROM note", max_bytes=1000).error
    assert sql.execute(conn, "SELECT length(printf('%.*c', 5000, 'x'))").rows == [(5000,)]
    small = sql.execute(conn, "SELECT length(printf('%.*c', 5000, 'x'))", max_bytes=1000)
    assert (not small.ok and "too big" in small.error) or small.rows == [(None,)]
    with pytest.raises(ValueError, match="max_bytes"):
        sql.execute(conn, "SELECT 1", max_bytes=0)


@needs_setlimit
def test_pattern_depth_and_compound_limits(conn: sqlite3.Connection) -> None:
    assert "pattern too complex" in sql.execute(conn, "SELECT name LIKE printf('%.*c', 600, '%') FROM city").error
    assert "too large" in sql.execute(conn, "SELECT " + " + ".join(["pop"] * 300) + " FROM city").error
    assert "too many terms" in sql.execute(conn, " UNION ALL ".join(["SELECT 1"] * 60)).error
    assert sql.execute(conn, "SELECT name FROM city WHERE name LIKE 'A%'").rows == [("Ada",)]


def test_endless_recursion_hits_the_time_limit(conn: sqlite3.Connection) -> None:
    endless = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
    result = sql.execute(conn, endless, timeout_s=0.2)
    assert not result.ok and "time limit" in result.error


def test_normal_queries_still_run(conn: sqlite3.Connection) -> None:
    result = sql.execute(conn, "SELECT name, pop FROM city WHERE pop > 1 ORDER BY pop")
    assert result.ok and result.rows == ROWS
    assert sql.execute(conn, "SELECT shout FROM ranked ORDER BY k").rows == [("Ada!",), ("Linus!",)]
    counted = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 5) SELECT sum(n) FROM r"
    assert sql.execute(conn, counted).rows == [(15,)]


class _ExhaustedConnection(sqlite3.Connection):
    """A connection whose statements fail the way SQLite's out-of-memory errors reach Python."""

    def execute(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:
        raise MemoryError


def test_memory_errors_are_recorded(db_path: Path) -> None:
    conn = sqlite3.connect(db_path, factory=_ExhaustedConnection)
    try:
        result = sql.execute(conn, "SELECT 1")
        assert not result.ok and "out of memory" in result.error
    finally:
        conn.close()


def test_closed_connection_is_a_recorded_error(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.close()
    result = sql.execute(conn, "SELECT 1")
    assert not result.ok and "closed" in result.error


@pytest.mark.parametrize("own", [True, False])
def test_generate_sql_cannot_write_whatever_the_constraint(
    tiny: Any, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own: bool
) -> None:
    """Candidates forced by a plain regex constraint (no SQL grammar) to be writes, an ATTACH or a huge value are
    recorded as failed attempts; the database and the folder are unchanged."""
    model, tok = tiny
    monkeypatch.chdir(tmp_path)
    attached = tmp_path / "x.db"
    before = contents(db_path)
    statements = ["PRAGMA query_only = 0", "ATTACH 'x.db' AS e", "DELETE FROM city", "SELECT length(randomblob(900000000))"]
    conn = None if own else sqlite3.connect(db_path)
    try:
        for statement in statements:
            forced = c.regex(re.escape(statement))
            result = sql.generate_sql(model, tok, "?", db_path if own else conn, n=1, constraint=forced,
                                      max_new_tokens=60, temperature=0)
            (attempt,) = result.attempts
            assert attempt.sql == statement and result.sql is None
            assert not attempt.execution.ok and ("not authorized" in attempt.execution.error
                                                 or "too big" in attempt.execution.error)
        if conn is not None:
            assert conn.execute("PRAGMA query_only").fetchone() == (0,)
    finally:
        if conn is not None:
            conn.close()
    assert not attached.exists() and contents(db_path) == before
