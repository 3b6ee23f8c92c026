"""Text-to-SQL: the database-specialised grammar against SQLite itself and the GeoQuery/Spider gold queries."""
from __future__ import annotations

import json
import random
import re
import sqlite3

import pytest

import constrain as c
import constrain.sql as sql
from tests.data import SHARED as SHARED_DATA

GEO = SHARED_DATA / "text2sql" / "geography"
GEO_DB = GEO / "geography-db.added-in-2020.sqlite"
SPIDER = SHARED_DATA / "text2sql" / "spider-dev"
NOT_SYNTAX = ("no such column",)


@pytest.fixture(scope="module")
def shop() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(
        """CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT, city TEXT);
           CREATE TABLE "order" (id INTEGER, customer_id INTEGER, total REAL, "placed at" TEXT);
           INSERT INTO customer VALUES (1, 'Ada', 'London'), (2, 'Linus', 'Helsinki');
           INSERT INTO "order" VALUES (1, 1, 9.5, '2024-01-01'), (2, 1, 3.0, '2024-02-01');"""
    )
    return db


@pytest.fixture(scope="module")
def shop_sql(shop: sqlite3.Connection) -> sql.SQLConstraint:
    return sql.from_sqlite(shop)


def sqlite_error(db: sqlite3.Connection, text: str) -> str | None:
    try:
        db.execute(f"EXPLAIN {text}")
        return None
    except sqlite3.Error as e:
        return str(e)


def test_one_table_select_sees_only_its_columns(shop, shop_sql):
    for text in ["SELECT total FROM customer", "SELECT name FROM \"order\"", "SELECT name FROM customer WHERE total > 1"]:
        assert "no such column" in sqlite_error(shop, text)
        assert not shop_sql.accepts(text), text
    assert shop_sql.accepts('SELECT customer.name, o.total FROM customer JOIN "order" AS o ON customer.id = o.customer_id')
    assert not shop_sql.accepts('SELECT name, total FROM customer JOIN "order" ON customer.id = customer_id')


CASES = [
    "SELECT name FROM customer",
    "SELECT customer.name, customer.city FROM customer",
    "select NAME from CUSTOMER where CITY = 'London'",
    'SELECT "placed at" FROM "order" ORDER BY total DESC LIMIT 1',
    'SELECT c.name, SUM(o.total) FROM customer AS c JOIN "order" AS o ON o.customer_id = c.id GROUP BY c.name',
    "SELECT x.n FROM (SELECT count(*) AS n FROM customer) AS x",
    "SELECT count(*), avg(total), max(total) FROM \"order\"",
    "SELECT name FROM customer WHERE id IN (SELECT customer_id FROM \"order\" WHERE total > 5)",
    "SELECT upper(name), length(city), substr(name, 1, 2), round(1.5) FROM customer",
    "SELECT name FROM customer UNION SELECT city FROM customer",
    "SELECT name FROM customer WHERE city = \"London\"",
    "SELECT name COLLATE NOCASE FROM customer",
]
WRONG = [
    "SELECT name FROM customers",
    "SELECT customer.total FROM customer",
    "SELECT nam FROM customer",
    "SELECT name FROM order",
    "SELECT frobnicate(name) FROM customer",
    "SELECT upper(name, city) FROM customer",
    "SELECT name FROM customer; DROP TABLE customer",
    "DELETE FROM customer",
    "WITH x AS (SELECT 1) SELECT * FROM x",
]


@pytest.mark.parametrize("text", CASES)
def test_database_queries_accepted_and_valid_in_sqlite(shop, shop_sql, text):
    assert sqlite_error(shop, text) is None
    assert shop_sql.accepts(text)


@pytest.mark.parametrize("text", WRONG)
def test_wrong_names_and_writes_rejected(shop_sql, text):
    assert not shop_sql.accepts(text)


def test_wrong_names_are_errors_in_sqlite(shop):
    """The rejected names above really are errors for SQLite (not just a stricter grammar)."""
    for text in WRONG[:6]:
        assert not sql.execute(shop, text).ok, text


def test_generic_grammar_is_looser(shop_sql):
    generic = c.grammar(sql.specialize.GRAMMAR_PATH)
    assert generic.accepts("SELECT nam FROM customers") and not shop_sql.accepts("SELECT nam FROM customers")


def test_identifier_excluding_matches_re():
    words = {"select", "sel", "from"}
    rx = re.compile(sql.specialize.identifier_excluding(words))
    rng = random.Random(0)
    for _ in range(2000):
        word = "".join(rng.choice("selctfromSELx_1") for _ in range(rng.randint(1, 7)))
        expected = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", word) is not None and word.lower() not in words
        assert (rx.fullmatch(word) is not None) == expected, word


def test_read_only_connection_refuses_writes():
    if not GEO_DB.exists():
        pytest.skip("GeoQuery database not available")
    conn = sql.connect_read_only(GEO_DB)
    result = sql.execute(conn, "DELETE FROM city")
    assert not result.ok and result.error.startswith("not authorized")


def test_time_limit_interrupts(shop):
    endless = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
    result = sql.execute(shop, endless, timeout_s=0.1)
    assert not result.ok and "time limit" in result.error


def geo_gold() -> list[str]:
    path = GEO / "questions.jsonl"
    if not path.exists():
        pytest.skip("GeoQuery data not available")
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    return sorted({r["gold_sql"] for r in rows if r["executes_on_sqlite"]})


@pytest.fixture(scope="module")
def geo() -> sql.SQLConstraint:
    if not GEO_DB.exists():
        pytest.skip("GeoQuery database not available")
    return sql.from_sqlite(GEO_DB)


def test_geoquery_gold_accepted_by_specialised_grammar(geo):
    conn = sql.connect_read_only(GEO_DB)
    runs = [q for q in geo_gold() if sql.execute(conn, q).ok]
    rejected = [q for q in runs if not geo.accepts(q)]
    assert len(runs) > 500
    assert len(rejected) <= len(runs) // 100, rejected[:3]


def test_geoquery_mutated_names_rejected(geo):
    """Gold queries with a table or a table-qualified column renamed: SQLite refuses them, and so do we."""
    conn = sql.connect_read_only(GEO_DB)
    rng = random.Random(1)
    checked = 0
    for q in rng.sample(geo_gold(), 60):
        for old, new in (("FROM CITY ", "FROM CITIES "), ("FROM STATE ", "FROM STATES "), ("FROM RIVER ", "FROM RIVERS ")):
            if old in q:
                mutated = q.replace(old, new, 1)
                assert not sql.execute(conn, mutated).ok
                assert not geo.accepts(mutated), mutated
                checked += 1
    assert checked > 10


def spider_rows() -> list[dict]:
    path = SPIDER / "dev_subset_300.jsonl"
    if not path.exists():
        pytest.skip("Spider dev data not available")
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def spider_gold_accepted(rows: list[dict], files: list[str]) -> tuple[int, int]:
    """(accepted, total) over the gold queries of ``files``' databases."""
    constraints = {f: sql.from_schema(sql.schema_from_sql((SPIDER / f).read_text(encoding="utf-8"))) for f in files}
    chosen = [r for r in rows if r["schema_file"] in constraints]
    return sum(constraints[r["schema_file"]].accepts(r["gold_sql"]) for r in chosen), len(chosen)


def test_spider_dev_schemas_sample():
    rows = spider_rows()
    files = sorted({r["schema_file"] for r in rows})[:3]
    accepted, total = spider_gold_accepted(rows, files)
    assert total > 20 and accepted == total


@pytest.mark.slow
def test_spider_dev_schemas_all_compile_and_accept_gold():
    """All 20 schemas compile; the gold queries the grammar refuses are joins that leave some columns
    unqualified (6 of 300 when this was written), the documented price of column scopes."""
    rows = spider_rows()
    files = sorted({r["schema_file"] for r in rows})
    accepted, total = spider_gold_accepted(rows, files)
    assert total == len(rows) and accepted >= total * 0.97


def test_random_walks_never_have_syntax_or_name_errors(shop, shop_sql, gpt2_tok):
    """Random token walks under the constraint (ending whenever allowed half the time; otherwise an allowed token
    from SQL-looking text when there is one, else any allowed token):
    whatever comes out, SQLite finds no syntax error, unknown table, unknown function or wrong argument count
    (an alias-qualified column is the documented gap, so "no such column" is the one error allowed)."""
    import numpy as np

    from constrain.mask import unpack

    vocab = c.Vocabulary.from_tokenizer(gpt2_tok)
    eos = min(vocab.eos_token_ids)
    rng = np.random.default_rng(5)
    sqlish = set(gpt2_tok.encode(" SELECT name, city, id FROM customer WHERE total > 1 AND id = 2 OR ( count ( * ) ) "
                                 "upper ( name ) 'x' ; \"order\" ORDER BY GROUP BY LIMIT 3 JOIN ON c.id customer.name"))
    finished = 0
    for _walk in range(12):
        matcher, text = shop_sql.matcher(vocab), b""
        for _step in range(30):
            allowed = np.flatnonzero(unpack(matcher.mask(), vocab.size))
            if eos in allowed and rng.random() < 0.5:
                break
            choices = [t for t in allowed.tolist() if t != eos]
            preferred = [t for t in choices if t in sqlish]
            token = int(rng.choice(preferred if preferred and rng.random() < 0.9 else choices))
            matcher.advance(token)
            text += vocab.token_bytes[token]
        else:
            continue
        finished += 1
        query = text.decode("utf-8")
        assert shop_sql.accepts(query)
        error = sqlite_error(shop, query)
        assert error is None or error.startswith(NOT_SYNTAX), (query, error)
    assert finished >= 6


def test_generate_sql_runs_candidates(tiny, shop):
    model, tok = tiny
    result = sql.generate_sql(model, tok, "How many customers?", shop, n=3, max_new_tokens=40, temperature=1.0, seed=0)
    assert len(result.attempts) == 3
    for attempt in result.attempts:
        if attempt.finish_reason in ("eos", "complete"):
            assert sql.from_sqlite(shop).accepts(attempt.sql)
    if result.sql is not None:
        assert result.rows == shop.execute(result.sql).fetchall()
