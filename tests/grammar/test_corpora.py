"""Real corpora: GeoQuery gold SQL against grammars/sqlite.lark and the StReg Python regexes against
grammars/regex.lark, with mutated inputs as near misses."""
import json
import os
import random
import re
import warnings
from pathlib import Path

import lark
import pytest
from helpers import TextRecognizer

from constrain.grammar.earley import EarleyParser
from constrain.grammar.lark_frontend import load_lark
from tests.data import SHARED as SHARED_DATA

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEO = str(SHARED_DATA / "text2sql" / "geography" / "questions.jsonl")
STREG = str(SHARED_DATA / "regex" / "structured-regex-streg")
REFUSED_REGEX = re.compile(r"\(\?[=!<]|\(\?P=|\\[1-9bB]")


def gold_queries() -> list[str]:
    if not os.path.exists(GEO):
        pytest.skip("GeoQuery data not available")
    rows = [json.loads(line) for line in open(GEO, encoding="utf-8")]
    return sorted({r["gold_sql"] for r in rows if r["executes_on_sqlite"]})


def streg_regexes() -> list[str]:
    if not os.path.isdir(STREG):
        pytest.skip("StReg data not available")
    out = []
    for split in ("train", "dev", "teste", "testi"):
        for line in open(os.path.join(STREG, f"{split}.jsonl"), encoding="utf-8"):
            pattern = json.loads(line).get("regex_python")
            if pattern:
                out.append(pattern)
    return out


@pytest.fixture(scope="module")
def sql():
    return TextRecognizer(EarleyParser(load_lark(Path(ROOT, "grammars", "sqlite.lark"))))


@pytest.fixture(scope="module")
def rx():
    return TextRecognizer(EarleyParser(load_lark(Path(ROOT, "grammars", "regex.lark"))))


def test_geoquery_gold_sql_accepted(sql):
    queries = gold_queries()
    rejected = [q for q in queries if not sql.accepts(q)]
    assert len(rejected) <= len(queries) // 100, rejected[:5]


SQL_NEAR_MISSES = [
    "SELECT FROM CITY",
    "SELECT a FROM t WHERE",
    "SELECT a FROM t WHERE x = ",
    "SELECT a b c FROM t",
    "SELECT a FROM t GROUP x",
    "SELECT ( a FROM t",
    "SELECT a FROM t ORDER BY",
    "SELECT a FROM t LIMIT",
    "SELECT a FROM t UNION",
    "SELECT CASE WHEN a THEN b FROM t",
    "SELECT a FROM t WHERE b IN ( SELECT c FROM d",
    "SELECT a FROM t WHERE b BETWEEN 1",
    "DELETE t",
    "UPDATE t a = 1",
    "INSERT INTO t VALUES 1",
    "SELECT 'abc FROM t",
    "SELECTa FROM t",
    "SELECT 1abc",
    "SELECT --1",
]


@pytest.mark.parametrize("text", SQL_NEAR_MISSES)
def test_sql_near_misses_rejected(sql, text):
    assert not sql.accepts(text)


@pytest.mark.parametrize("text", [
    "select a, count(*) from t as x join u on x.id = u.id where a like 'x%' group by a having count(*) > 1 "
    "order by 2 desc limit 5 offset 1",
    "WITH r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r",
    "SELECT a FROM t WHERE b IS NOT NULL AND c NOT IN (1, 2) OR d BETWEEN 1 AND 2",
    "SELECT CASE WHEN a > 1 THEN 'big' ELSE 'small' END, CAST(b AS INTEGER) FROM t EXCEPT SELECT 1, 2",
    "SELECT * FROM a LEFT OUTER JOIN b USING (id) NATURAL JOIN c CROSS JOIN d, e",
    "INSERT INTO t (a, b) VALUES (1, 'x'), (2, NULL)",
    "INSERT OR REPLACE INTO t SELECT * FROM u",
    "UPDATE t SET a = a + 1, b = 'y' WHERE id = 3 RETURNING *",
    "DELETE FROM t WHERE id IN (SELECT id FROM u) -- done",
    "SELECT \"select\", [order], `group` FROM t /* quoted keywords */ ;",
    "SELECT a FROM t1 INTERSECT SELECT a FROM t2 ORDER BY a COLLATE NOCASE ASC NULLS LAST",
])
def test_sql_features_accepted(sql, text):
    assert sql.accepts(text)


def test_sql_words_stay_whole_like_sqlite():
    """Keywords, identifiers and numbers end only at a non-word character and ``--``/``/*`` always open
    comments, as in SQLite's tokenizer: SQLite itself is the oracle."""
    import sqlite3

    constraint = __import__("constrain").grammar(Path(ROOT, "grammars", "sqlite.lark"))
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (a, b, fromt)")
    for text in ["SELECT a FROM t", "SELECTa FROM t", "SELECT a FROMt", "SELECT 1abc", "SELECT --1", "SELECT - -1",
                 "SELECT 2 /*3*/", "SELECT 2/3", "SELECT a fromt FROM t", "SELECT 1e5", "SELECT 1e", "SELECT 1 --x\n+ 2", "SELECT 1 LıMIT 1", "SELECT 1 lImIt 1"]:
        try:
            db.execute(f"EXPLAIN {text}")
            valid = True
        except sqlite3.Error as e:
            valid = not any(w in str(e) for w in ("syntax error", "unrecognized token", "incomplete input"))
        assert constraint.accepts(text) == valid, text


def test_sql_keywords_are_not_bare_identifiers(sql):
    assert not sql.accepts("SELECT a FROM t where")
    assert sql.accepts("SELECT a FROM t wherever")
    assert sql.accepts('SELECT a FROM t "where"')


@pytest.mark.slow
def test_geoquery_sample_agrees_with_lark(sql):
    oracle = lark.Lark.open(os.path.join(ROOT, "grammars", "sqlite.lark"), parser="earley", lexer="dynamic_complete")
    rng = random.Random(5)
    for q in rng.sample(gold_queries(), 40):
        oracle.parse(q)
        assert sql.accepts(q)


def test_streg_python_regexes(rx):
    patterns = streg_regexes()
    plain = [p for p in patterns if not REFUSED_REGEX.search(p)]
    refused = [p for p in patterns if REFUSED_REGEX.search(p)]
    assert len(plain) > 1500
    rejected = [p for p in plain if not rx.accepts(p)]
    assert rejected == []
    assert not any(rx.accepts(p) for p in refused[:200])


def test_regex_grammar_is_sound_on_mutations(rx):
    """Every mutated StReg regex that the grammar accepts compiles with Python's ``re``, except for reversed
    class ranges such as ``[z-a]`` (range order is not expressed in the grammar)."""
    rng = random.Random(3)
    patterns = [p for p in streg_regexes() if not REFUSED_REGEX.search(p)][:400]
    alphabet = list("()[]{}?*+|\\^$.-:,0123aZ<>P=!")
    accepted = 0
    for p in patterns:
        i = rng.randrange(len(p))
        mutated = p[:i] + rng.choice(alphabet) + p[i + rng.randint(0, 1):]
        if rx.accepts(mutated):
            accepted += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FutureWarning)
                    re.compile(mutated)
            except re.error as exc:
                assert "bad character range" in str(exc), mutated
    assert accepted > 50


@pytest.mark.parametrize("text, ok", [
    (r"(?i)a+b*?c{2,3}?", True), (r"[^]a-z\d-]", True), (r"(?P<year>\d{4})-(?:\d\d)", True),
    (r"\Aa|b\Z$^", True), (r"(?s:.)(?-i:x)", True), (r"\x41\u00e9\N{BULLET}\0\t", True), (r"a{,3}", True),
    (r"a**", False), (r"(a", False), (r"a)", False), (r"[]", False), (r"(?=a)", False), (r"(a)\1", False),
    (r"\bword\b", False), (r"a(?i)", False), (r"*a", False), (r"\q", False), (r"(?P=n)", False),
])
def test_regex_grammar_cases(rx, text, ok):
    assert rx.accepts(text) == ok
    if ok:
        re.compile(text)
