"""Targets from the issue, measured on the seeded corpus of ``benchmarks/repair_corpus.py``.

Ground truth is the generated document (for truncation: the part whose text survived, computed from the
serializer's spans, independently of the parser), so a pass here is agreement with an independent oracle.
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from repair_corpus import (JSON_COMBOS, JSON_SINGLE_MODES, consistent_prefix, deep_equal,  # noqa: E402
                           json_corpus, valid_corpus, yaml_corpus)

from constrain.errors import ConstrainError  # noqa: E402
from constrain.repair import repair  # noqa: E402

N = 40


def _judge(cases: list, fmt: str = "json") -> dict[str, dict[str, int]]:
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in cases:
        s = stats[c.mode]
        s["n"] += 1
        try:
            r = repair(c.text, format=fmt, truncated=True if (c.truncated and fmt == "yaml") else None)
        except ConstrainError:
            s["refused"] += 1
            continue
        ok = deep_equal(r.value, c.truth) or (c.truncated and consistent_prefix(r.value, c.original))
        s["accept"] += ok
        s["silent"] += (not ok) and not r.ambiguous
    return stats


@pytest.fixture(scope="module")
def json_stats() -> dict[str, dict[str, int]]:
    return _judge(json_corpus(N, seed=11))


def test_generator_is_deterministic_and_really_broken() -> None:
    a, b = json_corpus(3, seed=5), json_corpus(3, seed=5)
    assert [c.text for c in a] == [c.text for c in b]
    for c in a:
        with pytest.raises(ValueError):
            json.loads(c.text)
        if c.truncated:
            assert consistent_prefix(c.truth, c.original)
        else:
            assert deep_equal(c.truth, c.original)


@pytest.mark.parametrize("mode", JSON_SINGLE_MODES)
def test_single_mode_recovery(mode: str, json_stats: dict[str, dict[str, int]]) -> None:
    s = json_stats[mode]
    assert s["accept"] / s["n"] >= 0.97, dict(s)


@pytest.mark.parametrize("mode", ["+".join(m) for m in JSON_COMBOS])
def test_combination_recovery(mode: str, json_stats: dict[str, dict[str, int]]) -> None:
    s = json_stats[mode]
    assert s["accept"] / s["n"] >= 0.90, dict(s)


def test_wrong_without_error_is_rare(json_stats: dict[str, dict[str, int]]) -> None:
    total = sum(s["n"] for s in json_stats.values())
    silent = sum(s["silent"] for s in json_stats.values())
    assert silent / total <= 0.005, {m: dict(s) for m, s in json_stats.items() if s["silent"]}


def test_valid_documents_come_back_exact() -> None:
    for c in valid_corpus(50, seed=2):
        r = repair(c.text)
        assert r.fixes == [] and deep_equal(r.value, c.truth)


def test_yaml_recovery() -> None:
    pytest.importorskip("yaml")
    stats = _judge(yaml_corpus(20, seed=4), "yaml")
    n = sum(s["n"] for s in stats.values())
    assert sum(s["accept"] for s in stats.values()) / n >= 0.90, {m: dict(s) for m, s in stats.items()}
    assert sum(s["silent"] for s in stats.values()) / n <= 0.02
