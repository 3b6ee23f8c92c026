"""Run the public json_repair / partial-json-parser / dirtyjson test cases against constrain.repair.

The case files live outside the repository (``CASES_DIR``); they are read, never copied.  Each case gets an id
``suite:line`` and an outcome: ``match`` when our answer agrees with the suite's expectation, else ``differ``.

How an expectation is read:

* a value: ``repair(text)`` must return an equal value (partial-json-parser's ``STR`` flag maps to
  ``partial_strings=True``);
* an exception, or json_repair's empty answer (its way of saying "nothing found"): ``repair_strict`` must raise
  :class:`RepairError` (our strict mode is the one that refuses guesses).

Run as a script with ``--update`` to rewrite ``expected_cases.json`` (the ratchet read by the tests).
"""
from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from constrain.errors import ConstrainError  # noqa: E402
from constrain.repair import repair, repair_strict  # noqa: E402

CASES_DIR = Path(os.environ.get("CONSTRAIN_REPAIR_CASES", ROOT.parent / "shared" / "data" / "json-repair-cases"))
SUITES = {
    "json_repair": "json_repair_cases.jsonl",
    "partial_json_parser": "partial_json_parser_cases.jsonl",
    "dirtyjson": "dirtyjson_cases.jsonl",
}
EXPECTED_FILE = Path(__file__).with_name("expected_cases.json")
_NOTHING = object()


def _decode_expected(record: dict[str, Any]) -> Any:
    exp = record["expected"]
    if isinstance(exp, dict) and set(exp) == {"py_repr"}:
        return float(exp["py_repr"])
    if record.get("expected_type") == "json_string":
        return _NOTHING if exp == "" else json.loads(exp)
    if record.get("expected_type") == "python_object" and exp == "":
        return _NOTHING
    return exp


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b or (
        isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool)
        and not isinstance(b, bool) and a == b)


def _options(suite: str, record: dict[str, Any]) -> dict[str, Any]:
    opts: dict[str, Any] = {"format": "json"}
    kwargs = record.get("kwargs") or {}
    if "schema" in kwargs:
        opts["schema"] = kwargs["schema"]
    partial = record.get("allow_partial")
    if suite == "partial_json_parser" and partial is None:
        opts["partial_strings"] = True
    if isinstance(partial, dict):
        expr = partial.get("py_expr", "")
        opts["partial_strings"] = ("STR" in expr and "~STR" not in expr) or (expr.startswith("~") and "STR" not in expr)
    return opts


def evaluate(suite: str, record: dict[str, Any]) -> tuple[bool, str]:
    """``(matched, what we returned)`` for one case."""
    opts = _options(suite, record)
    wants_error = "expected_exception" in record
    expected = _NOTHING if wants_error else _decode_expected(record)
    text = record["input"]
    if expected is _NOTHING:
        try:
            got = repair_strict(text, **opts)
        except ConstrainError as exc:
            return True, f"raised {type(exc).__name__}"
        return False, f"returned {got.value!r}"
    try:
        got = repair(text, **opts)
    except ConstrainError as exc:
        return False, f"raised {exc}"
    return _equal(got.value, expected), f"returned {got.value!r} ({got.confidence})"


def silent(what: str) -> bool:
    """A differing answer returned without an ambiguity flag (the kind of difference that matters most)."""
    return what.startswith("returned") and not what.endswith("(ambiguous)") and "(" in what


def load_cases() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for suite, name in SUITES.items():
        path = CASES_DIR / name
        rows = []
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    rows.append((f"{suite}:{n}", json.loads(line)))
        out[suite] = rows
    return out


def run_all() -> dict[str, dict[str, tuple[bool, str]]]:
    return {suite: {cid: evaluate(suite, rec) for cid, rec in rows} for suite, rows in load_cases().items()}


def main() -> None:
    results = run_all()
    verbose = "-v" in sys.argv
    for suite, res in results.items():
        ok = sum(1 for m, _ in res.values() if m)
        print(f"{suite}: {ok}/{len(res)} match")
        if verbose:
            rows = dict(load_cases()[suite])
            for cid, (m, what) in res.items():
                if not m and ("-a" in sys.argv or silent(what)):
                    rec = rows[cid]
                    exp = rec.get("expected", "EXC " + str(rec.get("expected_exception")))
                    print(f"  {cid} {rec['input'][:70]!r} expected {str(exp)[:60]!r} {rec.get('kwargs') or ''}"
                          f"\n      -> {what[:100]}")
    if "--update" in sys.argv:
        data = json.loads(EXPECTED_FILE.read_text()) if EXPECTED_FILE.exists() else {}
        data["passing"] = {s: sorted((c for c, (m, _) in r.items() if m), key=lambda c: int(c.split(":")[1]))
                           for s, r in results.items()}
        EXPECTED_FILE.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {EXPECTED_FILE}")


if __name__ == "__main__":
    main()
