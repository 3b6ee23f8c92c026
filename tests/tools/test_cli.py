"""The ``constrain`` command: ``check`` (JSON Schema validation of JSON/YAML) and ``regex`` (text to regex)."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from constrain import cli

ROOT = Path(__file__).resolve().parents[2]

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
        "a/b": {"type": "number"},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}


@pytest.fixture()
def schema_file(tmp_path: Path) -> Path:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(SCHEMA))
    return path


def _run(argv: list[str], capsys: Any, stdin: str | None = None, monkeypatch: Any = None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_check_valid_json_and_yaml(tmp_path: Path, schema_file: Path, capsys: Any) -> None:
    doc = tmp_path / "ok.json"
    doc.write_text('{"name": "Ada", "age": 36}')
    assert _run(["check", str(schema_file), str(doc)], capsys)[0] == 0
    yml = tmp_path / "ok.yaml"
    yml.write_text("name: Ada\nage: 36\ntags: [x, y]\n")
    code, _out, err = _run(["check", str(schema_file), str(yml)], capsys)
    assert code == 0 and "valid" in err
    assert _run(["check", "-q", str(schema_file), str(yml)], capsys)[2] == ""


def test_check_invalid_lists_pointer_and_message_for_each_error(tmp_path: Path, schema_file: Path, capsys: Any) -> None:
    document = {"name": 5, "age": -1, "tags": ["ok", 3], "a/b": "x", "extra": True}
    doc = tmp_path / "bad.json"
    doc.write_text(json.dumps(document))
    code, out, err = _run(["check", str(schema_file), str(doc)], capsys)
    assert code == 1 and out == ""
    # oracle: jsonschema's own errors, one stderr line each, prefixed by the RFC 6901 pointer
    expected = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document))
    lines = [line for line in err.splitlines() if not line.endswith("errors")]
    assert len(lines) == len(expected) == 5
    for e in expected:
        pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in e.absolute_path) or "/"
        assert f"{pointer}: {e.message}" in lines
    assert any(line.startswith("/a~1b: ") for line in lines)
    assert any(line.startswith("/tags/1: ") for line in lines)
    assert any(line.startswith("/: ") and "extra" in line for line in lines)


def test_check_reads_stdin(schema_file: Path, capsys: Any, monkeypatch: Any) -> None:
    assert _run(["check", str(schema_file)], capsys, '{"name": "a", "age": 1}', monkeypatch)[0] == 0
    code, _out, err = _run(["check", str(schema_file), "-"], capsys, "name: a\nage: x\n", monkeypatch)
    assert code == 1 and err.startswith("/age: ")


def test_check_bad_input_exits_2_with_a_clear_message(tmp_path: Path, schema_file: Path, capsys: Any, monkeypatch: Any) -> None:
    code, _out, err = _run(["check", str(schema_file), str(tmp_path / "missing.json")], capsys)
    assert code == 2 and "cannot read" in err and "missing.json" in err
    code, _out, err = _run(["check", str(tmp_path / "nope.json"), "-"], capsys, "{}", monkeypatch)
    assert code == 2 and "cannot read the schema" in err
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "a", "age": ')
    code, _out, err = _run(["check", "--format", "json", str(schema_file), str(broken)], capsys)
    assert code == 2 and "not valid JSON" in err
    code, _out, err = _run(["check", str(schema_file), str(broken)], capsys)
    assert code == 2 and "neither valid JSON nor valid YAML" in err
    bad_schema = tmp_path / "bad_schema.json"
    bad_schema.write_text('{"type": "nonsense"}')
    code, _out, err = _run(["check", str(bad_schema), "-"], capsys, "{}", monkeypatch)
    assert code == 2 and "not a valid JSON Schema" in err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["check"])
    assert exit_info.value.code == 2


def test_help_of_new_subcommands_has_a_description_and_an_example() -> None:
    for name in ("check", "regex"):
        proc = subprocess.run(
            [sys.executable, "-m", "constrain", name, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0
        assert re.search(r"^examples?:$", proc.stdout, re.M) and f"constrain {name} " in proc.stdout
        assert "Exit status" in proc.stdout


def test_existing_subcommands_still_parse() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["repair", "x.json"]).func is cli._cmd_repair
    assert parser.parse_args(["generate", "hi", "--regex", "a+"]).func is cli._cmd_generate
    assert parser.parse_args(["demo"]).func is cli._cmd_demo
    assert parser.parse_args(["serve", "--port", "0"]).command == "serve"


def test_regex_subcommand_with_the_tiny_model(tiny_folder: Path, capsys: Any) -> None:
    argv = ["regex", "three digits", "-p", "123", "-p", "007", "-x", "12a", "--model", str(tiny_folder), "-n", "2", "--max-new-tokens", "6", "-v"]
    code, out, err = _run(argv, capsys)
    assert code in (0, 1)
    regex = out.rstrip("\n")
    re.compile(regex)  # oracle: the printed regex compiles
    passed = sum(re.fullmatch(regex, s) is not None for s in ("123", "007")) + (re.fullmatch(regex, "12a") is None)
    assert f"examples passed={passed}/3" in err
    assert code == (0 if passed == 3 else 1)
    assert err.count("regex=") == 2  # -v lists both candidates


def test_regex_subcommand_usage_errors(capsys: Any) -> None:
    assert _run(["regex", "x", "-n", "0"], capsys)[0] == 2
    code, _out, err = _run(["regex", "x", "--model", "/no/such/model"], capsys)
    assert code == 2 and "unknown model" in err


def test_sql_subcommand_loads_a_sql_script_into_memory(tiny_folder: Path, capsys: Any) -> None:
    script = ROOT / "examples" / "data" / "world.sql"
    argv = ["sql", str(script), "how many countries", "--model", str(tiny_folder), "-n", "2", "--max-new-tokens", "16", "-v"]
    code, out, err = _run(argv, capsys)
    assert code in (0, 1) and err.count("candidate (") == 2, err
    if code == 0:
        import sqlite3

        import constrain.sql as sql

        query, *rows = out.rstrip("\n").split("\n")
        conn = sqlite3.connect(":memory:")
        conn.executescript(script.read_text(encoding="utf-8"))
        assert sql.from_sqlite(conn).accepts(query), query  # held to the script's own tables and columns
        expected = conn.execute(query).fetchall()
        assert rows == ["\t".join("NULL" if v is None else str(v) for v in r) for r in expected][:20]


def test_sql_subcommand_reports_a_broken_script(tmp_path: Path, capsys: Any) -> None:
    broken = tmp_path / "broken.sql"
    broken.write_text("CREATE TABLE t (a INTEGER);\nINSERT INTO nowhere VALUES (1);\n")
    code, _out, err = _run(["sql", str(broken), "q"], capsys)
    assert code == 2 and f"the SQL script {broken} failed: no such table: nowhere" in err
    code, _out, err = _run(["sql", str(tmp_path / "missing.sql"), "q"], capsys)
    assert code == 2 and "no SQLite database or .sql script at" in err
