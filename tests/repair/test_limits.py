"""Repair on hostile or extreme input: only a value or a RepairError comes out, and work is bounded by the input."""
from __future__ import annotations

import json
import random
import sys
import time

import pytest

from constrain.errors import RepairError
from constrain.repair import repair, repair_strict
from constrain.repair.limits import (MAX_ALIAS_NODES, MAX_DEPTH, MAX_INPUT_BYTES, MAX_INT_DIGITS, MAX_YAML_BYTES,
                                     exact_int)


def _big_int(digits: str) -> int:
    """Oracle: Python's own int() with the digit limit lifted for this one call."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return int(digits)
    finally:
        sys.set_int_max_str_digits(old)


# -- item 7: deep nesting and huge numbers -------------------------------------------------------------------
@pytest.mark.parametrize("depth", [1, 50, MAX_DEPTH, 500])
def test_valid_nesting_json_reads_is_read_exactly(depth: int) -> None:
    text = "[" * depth + "]" * depth
    assert repair(text).value == json.loads(text)


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_nesting_python_cannot_decode_is_a_repair_error_with_position(depth: int) -> None:
    with pytest.raises(RepairError) as err:
        repair("[" * depth + "]" * depth)
    assert err.value.position == MAX_DEPTH


def test_broken_json_nested_to_the_limit_is_repaired() -> None:
    text = '{"a": ' * (MAX_DEPTH - 1) + "[1, 2,]" + "}" * (MAX_DEPTH - 1)
    r = repair(text)
    assert r.value == json.loads(text.replace(",]", "]"))
    assert [f.kind for f in r.fixes] == ["trailing_comma"]
    with pytest.raises(RepairError) as err:
        repair("[" + text)
    assert err.value.position is not None


@pytest.mark.parametrize("text", [
    "[" + "7" * 5000 + "]",
    '{"n": -' + "1" * 9000 + "}",
    "[" + "9" * MAX_INT_DIGITS + "]",
])
def test_huge_integers_in_valid_json_are_exact(text: str) -> None:
    r = repair(text)
    digits = text.strip("[]{}").split(":")[-1].strip()
    value = r.value[0] if isinstance(r.value, list) else r.value["n"]
    assert value == _big_int(digits) and r.confidence == "exact"


def test_huge_integer_in_broken_json_is_exact() -> None:
    r = repair('{"a": 1' + "9" * 5000 + ", b: 2,}")
    assert r.value == {"a": _big_int("1" + "9" * 5000), "b": 2}
    assert {f.kind for f in r.fixes} == {"unquoted_key", "trailing_comma"}


def test_integer_past_the_digit_limit_is_refused_at_its_position() -> None:
    with pytest.raises(RepairError) as err:
        repair("[" + "7" * (MAX_INT_DIGITS + 1) + "]")
    assert err.value.position == 1


def test_exact_int_matches_python_int() -> None:
    rng = random.Random(7)
    for n in (1, 4000, 4001, 8001, 12345):
        digits = "".join(rng.choice("0123456789") for _ in range(n))
        assert exact_int(digits) == _big_int(digits)
        assert exact_int("-" + digits) == -_big_int(digits)
    assert exact_int("1" * (MAX_INT_DIGITS + 1)) is None


_SEEDS = [
    '{"name": "Ada", "tags": ["a", "b"], "n": 12, "ok": true, "x": null, "f": 1.5e3}',
    "[[1, 2], {\"a\": [3, {\"b\": 4}]}, \"s\\u00e9\"]",
    "name: Ada\nborn: 1815\ntags:\n  - a\n  - b\naddress:\n  city: London\n",
    "a: &x [1, 2]\nb: *x\nc: {d: 'e', f: \"g\"}\n",
]
_NOISE = list("[]{}\"',:-*&!|>#\n\t 0123456789eE.+\\`") + ["```", "&a", "*a", "!!int", "NaN", "true", "\u201c"]


def test_fuzzed_input_gives_a_value_or_a_repair_error() -> None:
    rng = random.Random(0)
    for _ in range(1500):
        chars = list(rng.choice(_SEEDS))
        for _ in range(rng.randint(1, 6)):
            k = rng.randrange(len(chars) + 1)
            op = rng.random()
            if op < 0.4:
                chars.insert(k, rng.choice(_NOISE))
            elif op < 0.7 and k < len(chars):
                del chars[k]
            elif k < len(chars):
                chars[k] = rng.choice(_NOISE)
        text = "".join(chars)
        if rng.random() < 0.3:
            text = text[: rng.randrange(len(text) + 1)]
        for fmt in ("auto", "json", "yaml"):
            try:
                repair(text, format=fmt)
            except RepairError:
                pass


# -- item 8: no silent YAML 1.1 coercions, no prose documents, no recursive aliases ------------------------
@pytest.mark.parametrize("text, value", [
    ("time: 12:30\ncountry: NO", {"time": "12:30", "country": "NO"}),
    ("a: yes\nb: off\nc: On\nd: y", {"a": "yes", "b": "off", "c": "On", "d": "y"}),
    ("day: 2024-01-31\nat: 2024-01-31T10:00:00Z", {"day": "2024-01-31", "at": "2024-01-31T10:00:00Z"}),
    ("a: 1_000\nb: 0b101\nc: 190:20:30", {"a": "1_000", "b": "0b101", "c": "190:20:30"}),
    ("a: true\nb: False\nc: ~\nd: null\ne:", {"a": True, "b": False, "c": None, "d": None, "e": None}),
    ("a: 12\nb: -3\nc: +4\nd: 0o17\ne: 0x1F\nf: 0", {"a": 12, "b": -3, "c": 4, "d": 15, "e": 31, "f": 0}),
    ("a: 1.5\nb: 1e3\nc: .5\nd: -.inf", {"a": 1.5, "b": 1000.0, "c": 0.5, "d": float("-inf")}),
])
def test_yaml_scalars_follow_the_1_2_core_schema(text: str, value: dict) -> None:
    r = repair(text, format="yaml")
    assert r.value == value and r.confidence == "exact"
    assert all(type(r.value[k]) is type(v) for k, v in value.items())


def test_yaml_leading_zero_is_decimal_and_flagged() -> None:
    r = repair("a: 012", format="yaml")
    assert r.value == {"a": 12} and type(r.value["a"]) is int
    assert [(f.kind, f.position, f.ambiguous) for f in r.fixes] == [("number", 3, True)]
    with pytest.raises(RepairError):
        repair_strict("a: 012", format="yaml")


@pytest.mark.parametrize("fmt", ["auto", "yaml"])
@pytest.mark.parametrize("text", ["Here is the JSON:", "Here is the JSON:\n\n", "Sure, here is the YAML you asked for:"])
def test_a_lone_line_of_prose_is_not_a_document(text: str, fmt: str) -> None:
    with pytest.raises(RepairError):
        repair(text, format=fmt)


@pytest.mark.parametrize("text, position", [
    ("a: &x [1, *x]", 10),
    ("- &a [ *a ]", 7),
    ("a: &x\n  b: *x\n", 11),
    ("```yaml\na: &x {b: [*x]}\n```", 19),
])
def test_recursive_alias_is_a_repair_error(text: str, position: int) -> None:
    with pytest.raises(RepairError, match="recursive alias") as err:
        repair(text, format="yaml")
    assert err.value.position == position


def test_shared_aliases_and_merge_keys_still_work() -> None:
    text = "base: &b {x: 1}\nuse: *b\nboth: [*b, *b]\nm:\n  <<: *b\n  y: 2\n"
    assert repair(text, format="yaml").value == {"base": {"x": 1}, "use": {"x": 1}, "both": [{"x": 1}, {"x": 1}],
                                                  "m": {"x": 1, "y": 2}}


@pytest.mark.parametrize("depth", [300, 50_000])
def test_deep_yaml_is_a_repair_error(depth: int) -> None:
    with pytest.raises(RepairError, match="nesting"):
        repair("a: " + "[" * depth + "]" * depth, format="yaml")


# -- item 9: bounded work -------------------------------------------------------------------------------------
def _laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        refs = ", ".join([f"*a{n - 1}"] * 9)
        lines.append(f"a{n}: &a{n} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly() -> None:
    t0 = time.process_time()
    with pytest.raises(RepairError, match="aliases expand") as err:
        repair(_laughs(10), format="yaml")
    assert time.process_time() - t0 < 5.0  # CPU time: expansion was stopped early, not run to MemoryError
    assert err.value.position is not None


def test_aliases_under_the_limit_are_expanded() -> None:
    r = repair(_laughs(4), format="yaml")
    assert len(json.dumps(r.value)) > 9 ** 3 and r.confidence == "exact"
    assert 9 ** 5 > MAX_ALIAS_NODES / 2


def test_input_over_the_limit_is_refused_before_parsing() -> None:
    text = "[" + "1, " * (MAX_INPUT_BYTES // 3 + 1)
    t0 = time.process_time()
    with pytest.raises(RepairError, match="repair limit") as err:
        repair(text)
    assert time.process_time() - t0 < 1.0 and err.value.position == 0
    with pytest.raises(RepairError, match="YAML repair limit"):
        repair("a: b\n" * (MAX_YAML_BYTES // 5 + 1), format="yaml")
    with pytest.raises(RepairError, match="repair limit"):
        repair('"' + "\u00e9" * (MAX_INPUT_BYTES // 2) + '"')
    assert len(repair('"' + "\u00e9" * (MAX_INPUT_BYTES // 2 - 1) + '"').value) == MAX_INPUT_BYTES // 2 - 1


def _records(n: int, depth: int) -> str:
    head = "".join('{"k%d": [0, ' % i for i in range(depth))
    body = json.dumps([{"id": i, "name": f"item {i}", "tags": ["a", "b"], "sub": {"x": [1, {"y": "z"}]}}
                       for i in range(n)])
    text = head + body
    return text[: len(text) * 9 // 10]


def _cpu(fn: object, *args: object) -> float:
    t0 = time.process_time()
    fn(*args)  # type: ignore[operator]
    return time.process_time() - t0


@pytest.mark.parametrize("depth", [0, (MAX_DEPTH - 6) // 2])
def test_truncated_json_costs_a_bounded_multiple_of_json_loads(depth: int) -> None:
    text = _records(20_000, depth)
    valid = json.dumps(repair(text).value)
    loads = min(_cpu(json.loads, valid) for _ in range(3))
    cost = min(_cpu(repair, text) for _ in range(2))
    assert len(text) > 1_000_000 and len(valid) > len(text) // 2
    assert cost < 60 * loads + 1.0, (cost, loads)  # linear with slack for a loaded machine; quadratic would be far over
