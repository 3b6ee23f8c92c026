"""Every script in examples/ runs with the tiny random model and prints a valid result.

Each example reads its model from ``$CONSTRAIN_MODEL``; here that is a folder holding the
seeded tiny Llama (GPT-2 vocabulary), saved once per session. The scripts run in-process
with ``runpy`` (as ``__main__``) and must exit 0; the last line they print is JSON, checked
with an oracle that does not go through constrain: jsonschema, ``re``, lark or a plain set.
To cover a new example, add it to ``CHECKS``.
"""
from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from typing import Any, Callable

import jsonschema
import lark
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _check_extract_pydantic(value: Any, out: str) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "city": {"type": "string"},
            "seniority": {"enum": ["junior", "mid", "senior"]},
        },
        "required": ["name", "age", "city", "seniority"],
        "additionalProperties": False,
    }
    jsonschema.validate(value, schema)


def _check_classify_choice(value: Any, out: str) -> None:
    assert isinstance(value, list) and len(value) == 3
    for item in value:
        assert item["label"] in {"positive", "negative", "neutral"}


def _check_regex_fields(value: Any, out: str) -> None:
    patterns = {"date": r"\d{4}-\d{2}-\d{2}", "phone": r"\+\d{1,3}( \d{2,4}){2,4}", "order": r"[A-Z]{2}-\d{4}"}
    assert set(value) == set(patterns)
    for name, pattern in patterns.items():
        assert re.fullmatch(pattern, value[name]), (name, value[name])


def _check_lark_grammar(value: Any, out: str) -> None:
    parser = lark.Lark.open(str(ROOT / "grammars" / "arithmetic.lark"), parser="earley", lexer="dynamic")
    assert value["complete"], "the tiny model is expected to finish one of its candidates"
    parser.parse(value["expression"])


def _check_remote_repair_retry(value: Any, out: str) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "maxLength": 30},
            "country": {"type": "string", "maxLength": 30},
            "population_millions": {"type": "number", "minimum": 0, "maximum": 100},
        },
        "required": ["city", "country", "population_millions"],
        "additionalProperties": False,
    }
    jsonschema.validate(value, schema)
    assert "free text" in out and "response_format" in out


def _check_text_to_regex(value: Any, out: str) -> None:
    regex = re.compile(value["regex"])
    positive = ["12345", "12345-6789"]
    negative = ["1234", "12345-", "abcde"]
    passed = sum(regex.fullmatch(p) is not None for p in positive) + sum(regex.fullmatch(n) is None for n in negative)
    assert value["passed"] == passed and value["total"] == 5


def _check_text_to_sql(value: Any, out: str) -> None:
    """Every chosen query runs on the shipped world database and its rows are what SQLite itself returns."""
    import sqlite3

    assert isinstance(value, list) and len(value) == 3
    conn = sqlite3.connect(":memory:")
    conn.executescript((EXAMPLES / "data" / "world.sql").read_text(encoding="utf-8"))
    for item in value:
        if item["sql"] is not None:
            assert [list(r) for r in conn.execute(item["sql"]).fetchall()] == item["rows"], item


CHECKS: dict[str, Callable[[Any, str], None]] = {
    "text_to_sql.py": _check_text_to_sql,
    "extract_pydantic.py": _check_extract_pydantic,
    "classify_choice.py": _check_classify_choice,
    "regex_fields.py": _check_regex_fields,
    "lark_grammar.py": _check_lark_grammar,
    "remote_repair_retry.py": _check_remote_repair_retry,
    "text_to_regex.py": _check_text_to_regex,
}


def test_every_example_is_covered_and_documented() -> None:
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    missing = [s for s in scripts if s not in CHECKS]
    assert set(CHECKS) <= set(scripts)
    assert not missing, missing
    for script in scripts:
        text = (EXAMPLES / script).read_text()
        assert text.startswith('"""'), f"{script} needs a module docstring"
        assert "CONSTRAIN_MODEL" in text, f"{script} must take its model from $CONSTRAIN_MODEL"
    readme = (ROOT / "README.md").read_text()
    for script in CHECKS:
        assert f"examples/{script}" in readme


@pytest.mark.parametrize("script", sorted(CHECKS))
def test_example_runs_with_the_tiny_model(script: str, tiny_folder: Path, monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setenv("CONSTRAIN_MODEL", str(tiny_folder))
    monkeypatch.delenv("CONSTRAIN_BASE_URL", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    out, err = capsys.readouterr()
    assert exit_info.value.code == 0, f"{script} failed:\n{out}\n{err}"
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines, f"{script} printed nothing"
    CHECKS[script](json.loads(lines[-1]), out)


def test_text_to_sql_loads_the_database_it_ships() -> None:
    """The example's database is the shipped ``world.sql``: three tables with enough rows for real questions."""
    conn = runpy.run_path(str(EXAMPLES / "text_to_sql.py"))["database"]()
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("country", "city", "language")}
    assert counts == {"country": 22, "city": 59, "language": 34}
    assert conn.execute("SELECT name FROM country ORDER BY population DESC LIMIT 1").fetchone() == ("India",)
    orphans = conn.execute("SELECT count(*) FROM city WHERE country_code NOT IN (SELECT code FROM country)").fetchone()
    assert orphans == (0,)
