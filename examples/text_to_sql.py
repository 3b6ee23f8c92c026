"""Answer questions about the GeoQuery SQLite database with SQL the database itself constrains.

``constrain.sql.from_sqlite`` specialises the SQLite grammar to the database (its tables, their columns,
its functions; read-only), and ``generate_sql`` samples a few candidates, runs each read-only with a time
limit, and keeps the most common result.

Run: ``python examples/text_to_sql.py`` (model from ``$CONSTRAIN_MODEL``, default the built-in ``smollm2``;
database from ``$CONSTRAIN_SQL_DB``, default the GeoQuery file from the shared data, else a small demo
database built in memory). The last line printed is a JSON list of ``{"question", "sql", "rows"}``.
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import constrain.sql as sql
from constrain.generate import load_model

GEOQUERY = Path(__file__).resolve().parents[2] / "shared" / "data" / "text2sql" / "geography" / "geography-db.added-in-2020.sqlite"
QUESTIONS = ["what is the capital of texas", "which states border ohio", "how many rivers are there"]


def database() -> str | sqlite3.Connection:
    """The database named by ``$CONSTRAIN_SQL_DB``, else GeoQuery, else a tiny in-memory stand-in."""
    if os.environ.get("CONSTRAIN_SQL_DB"):
        return os.environ["CONSTRAIN_SQL_DB"]
    if GEOQUERY.exists():
        return str(GEOQUERY)
    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE TABLE state (state_name TEXT, capital TEXT, population INTEGER);"
        "INSERT INTO state VALUES ('texas', 'austin', 29000000), ('ohio', 'columbus', 11800000);"
        "CREATE TABLE river (river_name TEXT, traverse TEXT);"
        "INSERT INTO river VALUES ('red', 'texas'), ('ohio', 'ohio');"
    )
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
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
