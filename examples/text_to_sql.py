"""Answer questions about a small world database with SQL the database itself constrains.

The database ships with this example: ``examples/data/world.sql`` creates three tables (``country``: 22
countries with continent, capital, population and area; ``city``: 59 cities with their country code and
population; ``language``: 34 country-language pairs) and this script loads it into an in-memory SQLite
database. ``constrain.sql.from_sqlite`` specialises the SQLite grammar to that database (its tables, their
columns, its functions; read-only), and ``generate_sql`` samples a few candidates, runs each read-only
with a time limit, and keeps the most common result.

Run: ``python examples/text_to_sql.py`` (model from ``$CONSTRAIN_MODEL``, default the built-in ``smollm2``).
The last line printed is a JSON list of ``{"question", "sql", "rows"}``.
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import constrain.sql as sql
from constrain.generate import load_model

WORLD_SQL = Path(__file__).resolve().parent / "data" / "world.sql"
QUESTIONS = [
    "which country has the largest population",
    "how many cities in Germany are in the database",
    "which countries speak Spanish",
]


def database() -> sqlite3.Connection:
    """The world database: ``examples/data/world.sql`` run into a fresh in-memory SQLite database."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(WORLD_SQL.read_text(encoding="utf-8"))
    return conn


def main() -> int:
    model, tokenizer = load_model(os.environ.get("CONSTRAIN_MODEL", "smollm2"))
    db = database()
    out = []
    for question in QUESTIONS:
        result = sql.generate_sql(model, tokenizer, question, db, n=3, max_new_tokens=64, seed=0)
        ran = f"{result.executable}/{len(result.attempts)} candidates ran"
        print(f"{question}\n  {result.sql}\n  rows: {(result.rows or [])[:5]}  ({ran})")
        out.append({"question": question, "sql": result.sql, "rows": result.rows})
    db.close()
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
