"""Running candidate queries safely: read-only connections, a time limit, and comparable result sets."""
from __future__ import annotations

import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["Execution", "execute", "result_key"]


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


def execute(conn: sqlite3.Connection, sql: str, *, timeout_s: float = 2.0, max_rows: int = 10_000) -> Execution:
    """Run ``sql`` on ``conn`` (expected read-only), stopping it after ``timeout_s`` seconds.

    The limit is a progress handler that interrupts the statement; rows beyond ``max_rows`` are an error
    (a runaway join), never silently cut.
    """
    start = time.perf_counter()
    deadline = start + timeout_s

    def interrupt() -> int:
        return 1 if time.perf_counter() > deadline else 0

    conn.set_progress_handler(interrupt, 1000)
    try:
        cursor = conn.execute(sql)
        rows = cursor.fetchmany(max_rows + 1)
        if len(rows) > max_rows:
            return Execution(sql, None, f"more than {max_rows} rows", time.perf_counter() - start)
        return Execution(sql, [tuple(r) for r in rows], None, time.perf_counter() - start)
    except sqlite3.OperationalError as e:
        message = "interrupted: time limit of %.1f s" % timeout_s if "interrupt" in str(e) else str(e)
        return Execution(sql, None, message, time.perf_counter() - start)
    except (sqlite3.Error, sqlite3.Warning, ValueError, OverflowError) as e:
        return Execution(sql, None, f"{type(e).__name__}: {e}", time.perf_counter() - start)
    finally:
        conn.set_progress_handler(None, 0)


def result_key(rows: list[tuple[Any, ...]], ordered: bool = False) -> tuple:
    """A hashable form of a result set: the rows as a multiset (or in order when ``ordered``)."""
    normal = [tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in rows]
    if ordered:
        return tuple(normal)
    return tuple(sorted(Counter(normal).items(), key=repr))
