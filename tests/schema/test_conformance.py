"""Conformance ratchets: JSON-Schema-Test-Suite outcomes and MaskBench counts may only get better.

Outcomes per suite test ("pass" < "refused" < "wrong" in badness) are recorded in
``expected/json_schema_test_suite.json``; MaskBench counts in ``expected/maskbench_counts.json``
(full run, ``@slow``) and ``expected/maskbench_counts_sample50.json`` (every 50th schema, default
run). Both are rewritten by ``python benchmarks/schema_conformance.py suite|maskbench [--sample 50]``.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

from benchmarks.schema_conformance import EXPECTED, data_dir, run_maskbench, run_suite

RANK = {"pass": 0, "refused": 1, "wrong": 2}
SAMPLE = 50
SECONDS = 5.0


def _need(path_part: str) -> None:
    if not (data_dir() / path_part).exists():
        pytest.skip(f"shared data {path_part} not available")


def test_json_schema_test_suite_ratchet() -> None:
    _need("json-schema-test-suite")
    expected = json.loads((EXPECTED / "json_schema_test_suite.json").read_text(encoding="utf-8"))
    outcomes, per_cat, _reasons = run_suite(data_dir(), seconds=SECONDS)
    worse = [f"{tid}: {expected.get(tid)} -> {o}" for tid, o in outcomes.items() if RANK[o] > RANK[expected.get(tid, "wrong")]]
    better = [tid for tid, o in outcomes.items() if tid in expected and RANK[o] < RANK[expected[tid]]]
    totals = Counter(outcomes.values())
    print(f"suite: {dict(totals)}; improved {len(better)} (rewrite the expectations to keep them)")
    assert not worse, "outcomes got worse:\n" + "\n".join(worse[:50])
    assert totals["wrong"] == 0


def _check_counts(got: dict, expected: dict) -> list[str]:
    problems = []
    for name, exp in expected.items():
        g = got.get(name, {})
        slack = max(0, g.get("timeout", 0) - exp.get("timeout", 0))
        if g.get("invalid_accepted", 0) > exp["invalid_accepted"]:
            problems.append(f"{name}: invalid accepted {exp['invalid_accepted']} -> {g.get('invalid_accepted')}")
        if g.get("valid_rejected", 0) > exp["valid_rejected"]:
            problems.append(f"{name}: valid rejected {exp['valid_rejected']} -> {g.get('valid_rejected')}")
        if g.get("compiled_and_passing", 0) + slack < exp["compiled_and_passing"]:
            problems.append(f"{name}: compiled and passing {exp['compiled_and_passing']} -> {g.get('compiled_and_passing')}")
    return problems


def test_maskbench_sample_ratchet() -> None:
    _need("maskbench-dev")
    expected = json.loads((EXPECTED / f"maskbench_counts_sample{SAMPLE}.json").read_text(encoding="utf-8"))
    got, _reasons = run_maskbench(data_dir(), sample=SAMPLE, seconds=SECONDS)
    problems = _check_counts(got, expected)
    assert not problems, "\n".join(problems)
    assert sum(g["invalid_accepted"] for g in got.values()) == 0


@pytest.mark.slow
def test_maskbench_full_ratchet() -> None:
    _need("maskbench-dev")
    expected = json.loads((EXPECTED / "maskbench_counts.json").read_text(encoding="utf-8"))
    got, _reasons = run_maskbench(data_dir(), sample=1, seconds=SECONDS)
    problems = _check_counts(got, expected)
    assert not problems, "\n".join(problems)
