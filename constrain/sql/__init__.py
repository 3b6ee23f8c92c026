"""Text-to-SQL on SQLite: a grammar specialised to a live database, and execution-guided selection.

>>> import sqlite3, constrain.sql
>>> db = sqlite3.connect(":memory:")
>>> _ = db.execute("CREATE TABLE city (name TEXT, population INTEGER)")
>>> q = constrain.sql.from_sqlite(db)
>>> q.accepts("SELECT name FROM city WHERE population > 1000"), q.accepts("SELECT name FROM town")
(True, False)
>>> q.accepts("SELECT c.name FROM city AS c"), q.accepts("SELECT city.area FROM city")
(True, False)

``from_sqlite`` builds the constraint (see :mod:`constrain.sql.specialize` for exactly what it enforces and
what it cannot); ``generate_sql`` samples candidates under it, runs each with :func:`execute` (read-only by
SQLite's authorizer, whatever produced the SQL, within a time and size budget), and chooses among those that
run by result-set vote or mean log-probability.
"""
from __future__ import annotations

import os
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from ..constraints import GrammarConstraint
from .execute import DEFAULT_MAX_BYTES, Execution, execute, result_key
from .schema import Schema, connect_read_only, read_schema, schema_from_sql
from .specialize import grammar_functions, specialised_grammar

__all__ = ["SQLConstraint", "SQLResult", "Schema", "from_sqlite", "from_schema", "generate_sql", "execute",
           "connect_read_only", "read_schema", "schema_from_sql"]


class SQLConstraint(GrammarConstraint):
    """SQL statements valid for one database (a specialised ``grammars/sqlite.lark``).

    ``functions`` are the SQL functions its queries can call; :func:`generate_sql` lets a query call only these
    (``None``: SQLite's built-in functions).
    """

    def __init__(
        self, schema: Schema, grammar_text: str, read_only: bool, functions: frozenset[str] | None = None
    ) -> None:
        from ..grammar.lark_frontend import load_lark

        super().__init__(load_lark(grammar_text), description=f"SQLite over {len(schema.tables)} tables")
        self.schema = schema
        self.grammar_text = grammar_text
        self.read_only = read_only
        self.functions = functions


def _function_signatures(conn: sqlite3.Connection) -> dict[str, set[int]]:
    """Function name -> the argument counts the connection declares (scalar and aggregate functions)."""
    out: dict[str, set[int]] = {}
    try:
        rows = conn.execute("PRAGMA function_list").fetchall()
    except sqlite3.Error:
        return out
    for name, _builtin, kind, _enc, narg, _flags in rows:
        if kind in ("s", "a", "w"):
            out.setdefault(str(name).lower(), set()).add(int(narg))
    return out


def from_schema(
    schema: Schema,
    *,
    read_only: bool = True,
    comments: bool = False,
    scoped: bool = True,
    functions: dict[str, set[int]] | None = None,
) -> SQLConstraint:
    """A constraint from a :class:`Schema` (for example from ``schema_from_sql(create_statements)``).

    ``functions`` maps function names to argument counts; by default those of a fresh SQLite connection.
    ``comments=True`` also allows SQL comments. ``scoped=False`` drops the column scopes (any column of the
    database unqualified anywhere; joins need not qualify).
    """
    if functions is None:
        conn = sqlite3.connect(":memory:")
        try:
            functions = _function_signatures(conn)
        finally:
            conn.close()
    text = specialised_grammar(schema, functions, read_only, comments, scoped)
    return SQLConstraint(schema, text, read_only, grammar_functions(functions))


def from_sqlite(
    db: str | os.PathLike[str] | sqlite3.Connection,
    *,
    read_only: bool = True,
    comments: bool = False,
    scoped: bool = True,
) -> SQLConstraint:
    """A constraint to SQL statements over the tables and columns of a SQLite database (a path or a connection).

    Read-only by default: one ``SELECT`` statement. A path is opened read-only (``mode=ro``). SQL comments
    are left out unless ``comments=True``; ``scoped`` as in :func:`from_schema`.
    """
    if isinstance(db, sqlite3.Connection):
        return from_schema(read_schema(db), read_only=read_only, comments=comments, scoped=scoped,
                           functions=_function_signatures(db))
    if not os.path.exists(db):
        raise FileNotFoundError(f"no SQLite database at {os.fspath(db)!r}")
    conn = connect_read_only(db)
    try:
        return from_schema(read_schema(conn), read_only=read_only, comments=comments, scoped=scoped,
                           functions=_function_signatures(conn))
    finally:
        conn.close()


@dataclass
class SQLAttempt:
    """One candidate: its SQL, mean log-probability, and what running it gave."""

    sql: str
    mean_logprob: float
    finish_reason: str
    execution: Execution | None


@dataclass
class SQLResult:
    """The chosen query and its rows (``sql`` is None when no candidate ran), with every attempt."""

    sql: str | None
    rows: list[tuple[Any, ...]] | None
    attempts: list[SQLAttempt] = field(default_factory=list)
    votes: int = 0

    @property
    def executable(self) -> int:
        """How many candidates ran without error."""
        return sum(1 for a in self.attempts if a.execution is not None and a.execution.ok)


def default_prompt(schema: Schema, question: str) -> list[dict[str, str]]:
    """Chat messages asking for one SQLite query answering ``question`` over ``schema``."""
    return [
        {"role": "system", "content": "You translate questions into one SQLite SELECT query. Answer with the SQL only."},
        {"role": "user", "content": f"Database:\n{schema.create_statements()}\n\nQuestion: {question}\nSQL:"},
    ]


def generate_sql(
    model: Any,
    tokenizer: Any,
    question: str,
    db: str | os.PathLike[str] | sqlite3.Connection,
    *,
    n: int = 5,
    choose: Literal["vote", "logprob"] = "vote",
    constraint: GrammarConstraint | None | Literal["database"] = "database",
    prompt: Any = None,
    max_new_tokens: int = 128,
    temperature: float = 0.7,
    seed: int | None = 0,
    timeout_s: float = 2.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> SQLResult:
    """Answer ``question`` with SQL: ``n`` candidates (one batch), each run read-only with a time limit.

    ``constraint``: ``"database"`` (default) specialises the grammar to ``db``; pass any constraint (such as
    ``constrain.grammar(Path("grammars/sqlite.lark"))``) or ``None`` for free text. Whatever the constraint,
    each candidate runs through :func:`execute`: read-only, limited to ``timeout_s`` seconds and ``max_bytes``
    per value, and (with an :class:`SQLConstraint`) calling only the functions its grammar allows; every failure
    is recorded on the attempt, never raised. Among candidates that run, ``choose="vote"`` keeps the most
    common result set (ties: higher mean log-probability), and ``"logprob"`` the highest mean log-probability.
    With ``n=1`` and ``temperature=0`` this is greedy decoding.
    """
    from ..generate.api import _prompt_ids
    from ..sampling.batch import decode_batch

    own = not isinstance(db, sqlite3.Connection)
    conn = connect_read_only(db) if own else db  # type: ignore[arg-type]
    try:
        schema = read_schema(conn)
        if constraint == "database":
            constraint = from_schema(schema, functions=_function_signatures(conn))
        if prompt is None:
            prompt = default_prompt(schema, question)
            if not getattr(tokenizer, "chat_template", None):
                prompt = "\n\n".join(m["content"] for m in prompt) + " "
        ids = _prompt_ids(tokenizer, prompt, None)
        batch = decode_batch(model, tokenizer, ids, n, constraint, max_new_tokens=max_new_tokens,  # type: ignore[arg-type]
                             temperatures=temperature, seed=seed)
        allowed = constraint.functions if isinstance(constraint, SQLConstraint) else None
        attempts = []
        for row in batch.rows:
            sql = row.text.strip()
            ran = execute(conn, sql, timeout_s=timeout_s, max_bytes=max_bytes, functions=allowed) if sql else None
            attempts.append(SQLAttempt(sql, row.mean_logprob, row.finish_reason, ran))
    finally:
        if own:
            conn.close()
    good = [a for a in attempts if a.execution is not None and a.execution.ok]
    if not good:
        return SQLResult(None, None, attempts)
    if choose == "logprob":
        best = max(good, key=lambda a: a.mean_logprob)
        return SQLResult(best.sql, best.execution.rows, attempts, 1)  # type: ignore[union-attr]
    counts = Counter(result_key(a.execution.rows) for a in good)  # type: ignore[union-attr]
    best = max(good, key=lambda a: (counts[result_key(a.execution.rows)], a.mean_logprob))  # type: ignore[union-attr]
    return SQLResult(best.sql, best.execution.rows, attempts, counts[result_key(best.execution.rows)])  # type: ignore[union-attr]
