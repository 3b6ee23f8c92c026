"""``constrain sql``: a question about a SQLite file, answered by a model under the database's grammar."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import constrain.sql as sql
from constrain import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def db_file(tmp_path_factory: Any) -> Path:
    path = tmp_path_factory.mktemp("db") / "shop.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE customer (id INTEGER, name TEXT); INSERT INTO customer VALUES (1, 'Ada'), (2, 'Linus');")
    conn.commit()
    conn.close()
    return path


def test_sql_subcommand_with_the_tiny_model(tiny_folder: Path, db_file: Path, capsys: Any) -> None:
    code = cli.main(["sql", str(db_file), "how many customers", "--model", str(tiny_folder), "-n", "4",
                     "--max-new-tokens", "24", "-v"])
    out, err = capsys.readouterr()
    assert code in (0, 1)
    assert err.count("candidate (") == 4
    if code == 0:
        query, *rows = out.rstrip("\n").split("\n")
        assert sql.from_sqlite(db_file).accepts(query)
        expected = sqlite3.connect(db_file).execute(query).fetchall()
        assert rows == ["\t".join("NULL" if v is None else str(v) for v in r) for r in expected][:20]


def test_sql_subcommand_errors_and_help(db_file: Path, capsys: Any) -> None:
    assert cli.main(["sql", "/no/such.sqlite", "q"]) == 2
    assert "no SQLite database" in capsys.readouterr().err
    assert cli.main(["sql", str(db_file), "q", "-n", "0"]) == 2
    proc = subprocess.run([sys.executable, "-m", "constrain", "sql", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "example:" in proc.stdout and "Exit status" in proc.stdout
