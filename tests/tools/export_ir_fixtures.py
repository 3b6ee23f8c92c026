"""Write the golden IR fixtures that the core crate's brute-force tests decode (``crates/constrain-core/tests/fixtures``).

Run from the repository root: ``python -m tests.tools.export_ir_fixtures``; ``test_ir_fixtures_are_current``
fails when the committed files no longer match what the Python front end encodes.
"""
from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "crates" / "constrain-core" / "tests" / "fixtures"

PATTERNS = {
    "email": r"[\w.+-]+@[\w-]+\.[a-z]{2,}",
    "date": r"\d{4}-\d{2}-\d{2}",
    "json_string": r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"',
    "unicode_class": r"[日本語한국어😀éè]{1,6}x?",
    "ignorecase": r"(?i)(select|insert|update) [a-z_]+;",
}
SCHEMA = {
    "type": "object",
    "properties": {"a": {"type": "integer", "minimum": -5, "maximum": 300}, "b": {"enum": ["x", "y"]}},
    "required": ["a"],
    "additionalProperties": False,
}


def fixtures() -> dict[str, bytes]:
    """File name -> IR bytes, as the current front ends produce them."""
    import constrain as c
    from constrain.regex import parse_regex
    from constrain.regex.wire import encode

    out = {f"{name}.ir": encode([parse_regex(p)]) for name, p in PATTERNS.items()}
    # the full escape language (every spelling of "x" and "y"), which gives the brute-force oracle more to walk
    out["schema_object.ir"] = encode([c.json_schema(SCHEMA, escapes="any")._node])
    return out


if __name__ == "__main__":
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, data in fixtures().items():
        (FIXTURES / name).write_bytes(data)
        print(f"wrote {FIXTURES / name} ({len(data)} bytes)")
