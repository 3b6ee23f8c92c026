"""JSON repair, one failure mode at a time; the oracle is ``json.loads`` of the valid document."""
from __future__ import annotations

import json
import math

import pytest

from constrain.errors import ConstrainError, RepairError
from constrain.repair import Fix, RepairResult, repair, repair_strict

DOC = '{"name": "Ada", "tags": ["x", "y"], "n": 3, "ok": true, "none": null, "nested": {"k": [1, 2.5]}}'
TRUTH = json.loads(DOC)


def kinds(result: RepairResult) -> list[str]:
    return [f.kind for f in result.fixes]


def test_valid_input_is_unchanged_with_no_fixes() -> None:
    r = repair(DOC)
    assert r.value == TRUTH and r.fixes == [] and r.confidence == "exact" and not r.ambiguous
    assert repair_strict(DOC).value == TRUTH


@pytest.mark.parametrize("text", [
    "```json\n" + DOC + "\n```",
    "Here is the data you wanted:\n\n" + DOC + "\n\nHope this helps.",
    "Sure.\n```\n" + DOC + "\n```\nDone.",
    "The record is " + DOC + " and that is all.",
    "Install:\n```bash\npip install x\n```\nConfig:\n```json\n" + DOC + "\n```",
    DOC + "\n" + DOC,
])
def test_wrapping_is_removed(text: str) -> None:
    r = repair_strict(text)
    assert r.value == TRUTH and r.confidence == "repaired"


def test_two_different_values_are_flagged_not_merged_silently() -> None:
    r = repair('{"a": 1} [1, 2]')
    assert r.value == [{"a": 1}, [1, 2]] and r.ambiguous
    with pytest.raises(RepairError):
        repair_strict('{"a": 1} [1, 2]')


def test_schema_picks_the_matching_value_among_several() -> None:
    schema = {"type": "object", "required": ["a"]}
    r = repair_strict('{"a": 1} [1, 2]', schema=schema)
    assert r.value == {"a": 1}


@pytest.mark.parametrize("text, kind", [
    ('{"name": "Ada", "tags": ["x", "y",], "n": 3, "ok": true, "none": null, "nested": {"k": [1, 2.5,],},}',
     "trailing_comma"),
    ("{'name': 'Ada', 'tags': ['x', 'y'], 'n': 3, 'ok': true, 'none': null, 'nested': {'k': [1, 2.5]}}", "quotes"),
    ('{name: "Ada", tags: ["x", "y"], n: 3, ok: true, none: null, nested: {k: [1, 2.5]}}', "unquoted_key"),
    ('{"name": "Ada", "tags": ["x", "y"], "n": 3, "ok": True, "none": None, "nested": {"k": [1, 2.5]}}', "literal"),
    ('{"name": "Ada", "tags": ["x", "y"], "n": 3, "ok": true, "none": undefined, "nested": {"k": [1, 2.5]}}',
     "literal"),
    ('{"name": "Ada", // who\n "tags": ["x", /* two */ "y"], # count\n "n": 3, "ok": true, "none": null, '
     '"nested": {"k": [1, 2.5]}}', "comment"),
    ('{"name": "Ada"\n "tags": ["x"\n "y"] "n": 3 "ok": true, "none": null, "nested": {"k": [1 2.5]}}',
     "missing_comma"),
    ('{\u201cname\u201d: \u201cAda\u201d, "tags": ["x", "y"], "n": 3, "ok": true, "none": null, '
     '"nested": {"k": [1, 2.5]}}', "quotes"),
])
def test_syntax_mistakes(text: str, kind: str) -> None:
    r = repair_strict(text)
    assert r.value == TRUTH
    assert kind in kinds(r)
    assert all(isinstance(f.position, int) and 0 <= f.position <= len(text) for f in r.fixes)


def test_fix_positions_point_at_the_mistake() -> None:
    text = '{"a": 1,}'
    r = repair(text)
    (fix,) = r.fixes
    assert fix.kind == "trailing_comma" and text[fix.position] == ","
    assert str(fix) == "removed trailing comma at 7"


def test_nan_and_infinity_are_read_and_reported() -> None:
    r = repair('{"a": NaN, "b": Infinity, "c": -Infinity}')
    assert math.isnan(r.value["a"]) and r.value["b"] == math.inf and r.value["c"] == -math.inf
    assert kinds(r).count("literal") == 3


def test_unescaped_inner_quotes() -> None:
    r = repair_strict('{"quote": "she said "hello" twice", "n": 1}')
    assert r.value == {"quote": 'she said "hello" twice', "n": 1}
    assert "unescaped_quote" in kinds(r)


def test_unescaped_quote_that_could_end_the_string_is_ambiguous() -> None:
    r = repair('{"a": "x", "y" z", "b": 1}')
    assert r.ambiguous
    with pytest.raises(RepairError):
        repair_strict('{"a": "x", "y" z", "b": 1}')


def test_raw_newlines_in_strings() -> None:
    r = repair_strict('{"text": "line one\nline two\ttab"}')
    assert r.value == {"text": "line one\nline two\ttab"} and "raw_control" in kinds(r)


def test_escaped_surrogate_pair_is_one_character() -> None:
    r = repair_strict('{"e": "\\ud83d\\ude80 go",}')
    assert r.value == {"e": "\U0001F680 go"} and len(r.value["e"]) == 4


@pytest.mark.parametrize("cut", range(1, len(DOC)))
def test_truncation_at_every_point_keeps_only_complete_parts(cut: int) -> None:
    text = DOC[:cut]
    try:
        r = repair_strict(text)
    except RepairError:
        pytest.fail(f"refused a cut at {cut}: {text!r}")
    value = r.value
    assert isinstance(value, dict)
    for key, got in value.items():
        want = TRUTH[key]
        if got != want:
            # only the last member may itself be cut, and then only by dropping its trailing members
            assert key == list(value)[-1]
            assert isinstance(got, (dict, list)), (cut, got, want)
    assert list(value) == list(TRUTH)[: len(value)]
    assert r.truncated


def test_truncation_drops_partial_numbers_literals_and_keys() -> None:
    assert repair('{"a": 12').value == {}
    assert repair('{"a": 12\n').value == {"a": 12}
    assert repair('{"a": tru').value == {}
    assert repair('{"a": true').value == {"a": True}
    assert repair('{"a": 1, "b').value == {"a": 1}
    assert repair('{"a": 1, "b":').value == {"a": 1}
    assert repair('[1, [2, {"x": ').value == [1, [2, {}]]


def test_partial_strings_only_when_allowed() -> None:
    r = repair('{"a": "hello wor')
    assert r.value == {} and "dropped_partial_string" in kinds(r)
    r = repair('{"a": "hello wor', partial_strings=True)
    assert r.value == {"a": "hello wor"} and "kept_partial_string" in kinds(r)


def test_truncated_closed_fence_numbers_are_complete() -> None:
    assert repair("```json\n[1, 2, 3\n```").value == [1, 2, 3]


def test_nothing_to_recover_raises_with_position() -> None:
    for text in ("", "no json here", '"unterminated', "tru"):
        with pytest.raises(RepairError) as info:
            repair(text, format="json")
        assert info.value.position is not None


def test_unreadable_structure_raises() -> None:
    with pytest.raises(RepairError) as info:
        repair('{"a": 1 + 2}')
    assert "+" in str(info.value)


def test_missing_value_is_dropped_not_invented() -> None:
    r = repair('{"a": , "b": 2}')
    assert r.value == {"b": 2} and r.ambiguous


def test_non_string_input_is_rejected() -> None:
    with pytest.raises(ConstrainError):
        repair(b"{}")  # type: ignore[arg-type]


def test_fix_and_result_types() -> None:
    r = repair("[1,]")
    assert isinstance(r.fixes[0], Fix) and r.format == "json" and r.explain() == str(r.fixes[0])


def test_json_repair_needs_only_the_standard_library() -> None:
    import subprocess
    import sys

    code = ("import sys; sys.modules['yaml'] = None; sys.modules['jsonschema'] = None; sys.modules['pydantic'] = None\n"
            "from constrain.repair import repair\nprint(repair(\"{'a': 1,}\").value)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "{'a': 1}"
