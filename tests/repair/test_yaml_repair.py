"""YAML repair; the oracle is ``yaml.safe_load`` of the valid document."""
from __future__ import annotations

import pytest

yaml = pytest.importorskip("yaml")

from constrain.errors import ConstrainError, RepairError  # noqa: E402
from constrain.repair import repair, repair_strict  # noqa: E402

VALID = """name: Ada Lovelace
born: 1815
tags:
  - math
  - engines
address:
  city: London
  street: St James's Square
"""
TRUTH = yaml.safe_load(VALID)


def test_valid_yaml_is_unchanged() -> None:
    r = repair(VALID, format="yaml")
    assert r.value == TRUTH and r.fixes == [] and r.format == "yaml"


def test_auto_detects_yaml() -> None:
    assert repair(VALID).format == "yaml"
    assert repair("```yaml\n" + VALID + "```").format == "yaml"


@pytest.mark.parametrize("text, kind", [
    ("```yaml\n" + VALID + "```\n", "code_fence"),
    ("Here is the YAML you asked for:\n\n" + VALID + "\nLet me know if you need changes.", "prose"),
    (VALID.replace("  ", "\t"), "tab_indent"),
    (VALID.replace("  city: London", "   city: London"), "indent"),
    (VALID.replace("born: 1815", "born:1815"), "colon_space"),
    ("---\n" + VALID + "...\n", None),
    (VALID.replace("tags:", "---\ntags:"), "document_marker"),
])
def test_yaml_failure_modes(text: str, kind: str | None) -> None:
    r = repair(text, format="yaml")
    assert r.value == TRUTH
    if kind:
        assert kind in [f.kind for f in r.fixes]


def test_unquoted_colon_in_value() -> None:
    text = VALID.replace("city: London", "city: Note: London")
    r = repair_strict(text, format="yaml")
    assert r.value["address"]["city"] == "Note: London"
    assert "quoted_value" in [f.kind for f in r.fixes]


@pytest.mark.parametrize("cut", range(1, len(VALID)))
def test_truncation_never_invents(cut: int) -> None:
    text = VALID[:cut]
    if ":" not in text:
        with pytest.raises(RepairError):
            repair(text, format="yaml", truncated=True)
        return
    r = repair(text, format="yaml", truncated=True)
    value = r.value
    assert isinstance(value, dict)
    keys = list(value)
    assert keys == list(TRUTH)[: len(keys)]
    for k in keys[:-1]:
        assert value[k] == TRUTH[k]
    if keys:
        last, want = value[keys[-1]], TRUTH[keys[-1]]
        if isinstance(want, list):
            assert last == want[: len(last)]
        elif isinstance(want, dict):
            assert all(last[k] == want[k] for k in last)
        else:
            assert last == want


def test_unrepairable_yaml_raises_with_position() -> None:
    with pytest.raises(RepairError) as info:
        repair("a: [1, 2\nb: {c: d\n  - e: : :\n", format="yaml", truncated=False)
    assert info.value.position is not None


def test_missing_pyyaml_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ConstrainError, match=r"pip install constrain\[yaml\]"):
        repair("a: 1", format="yaml")
