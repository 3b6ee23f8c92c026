"""README.md's code works as pasted: every ```python block runs, and prints what its comments promise.

Each block runs in a fresh interpreter (``python -c``) outside the repository, as a reader would run it
after README's install line. A block may be preceded by a marker comment the test reads::

    <!-- readme-test: slow needs=smollm2 -->

``slow`` puts the block in the slow suite (it loads a model); ``needs=NAME`` names something it needs
that may be missing (``smollm2``: the built-in model's GGUF). A block whose need is missing is skipped
under its own name with the reason (under ``CI=true`` it fails instead). Inside a block, every line that
calls ``print`` ends with ``# -> TEXT`` (the line it prints, ``...`` matching anything; checked) or
``# e.g. TEXT`` (an illustration, e.g. a model's answer; only counted).

The install line's extras are checked too: they must bring every third-party module the package, the
examples and the README blocks import.
"""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = re.compile(r"<!--\s*readme-test:(?P<words>[^>]*)-->")
CHECKED = "# -> "
ILLUSTRATIVE = "# e.g. "


@dataclass(frozen=True)
class Block:
    """One ```python block of README.md, named after the heading above it."""

    name: str
    line: int
    code: str
    slow: bool = False
    needs: tuple[str, ...] = ()


def _slug(heading: str) -> str:
    text = re.sub(r"^example:\s*", "", heading.strip("# ").strip(), flags=re.I)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _marker(words: str, line: int) -> tuple[bool, tuple[str, ...]]:
    """``(slow, needs)`` from a marker's words; an unknown word is an error, so a typo cannot skip a block."""
    slow, needs = False, []
    for word in words.split():
        if word == "slow":
            slow = True
        elif word.startswith("needs="):
            needs.extend(n for n in word[len("needs="):].split(",") if n)
        else:
            raise ValueError(f"README.md:{line}: unknown readme-test marker word {word!r}")
    unknown = [n for n in needs if n not in NEEDS]
    if unknown:
        raise ValueError(f"README.md:{line}: readme-test marker needs unknown {unknown} (known: {sorted(NEEDS)})")
    return slow, tuple(needs)


def readme_blocks(text: str) -> list[Block]:
    """The ```python blocks of a README text, each with its name and marker (fences start a line)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    heading, marker, i = "top", None, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            language = line[3:].strip()
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
            if end is None:
                raise ValueError(f"README.md:{i + 1}: unclosed code fence")
            if language == "python":
                slow, needs = _marker(marker[0], marker[1]) if marker else (False, ())
                name = _slug(heading)
                taken = sum(1 for b in blocks if b.name == name or b.name.startswith(name + "-"))
                blocks.append(Block(name if not taken else f"{name}-{taken + 1}", i + 2, "\n".join(lines[i + 1 : end]) + "\n", slow, needs))
            elif marker:
                raise ValueError(f"README.md:{marker[1]}: a readme-test marker must come right before a ```python block")
            marker, i = None, end + 1
            continue
        found = MARKER.fullmatch(line.strip())
        if found:
            marker = (found["words"], i + 1)
        elif line.strip():
            if marker:
                raise ValueError(f"README.md:{marker[1]}: a readme-test marker must come right before a ```python block")
            if line.startswith("#"):
                heading = line
        i += 1
    return blocks


def expected_output(block: Block) -> list[str | None]:
    """Per printed line, the text it must match (``None``: illustrative, any line)."""
    expected: list[str | None] = []
    for number, line in enumerate(block.code.splitlines(), block.line):
        if "print(" not in line:
            continue
        if CHECKED in line:
            expected.append(line.rsplit(CHECKED, 1)[1].strip())
        elif ILLUSTRATIVE in line:
            expected.append(None)
        else:
            raise AssertionError(f"README.md:{number}: a print line needs a '{CHECKED}TEXT' or '{ILLUSTRATIVE}TEXT' comment")
    return expected


def _matches(expected: str, actual: str) -> bool:
    return re.fullmatch(".*".join(re.escape(part) for part in expected.split("...")), actual.strip()) is not None


def _smollm2_missing() -> str | None:
    from constrain.errors import ConstrainError
    from constrain.generate.models import builtin_folder

    try:
        builtin_folder("smollm2")
    except ConstrainError as e:
        return str(e)
    return None


NEEDS: dict[str, Callable[[], str | None]] = {"smollm2": _smollm2_missing}
"""What a block may need: name -> a check returning why it is missing (``None`` when present)."""

BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.mark.parametrize(
    "block", [pytest.param(b, id=b.name, marks=[pytest.mark.slow] if b.slow else []) for b in BLOCKS]
)
def test_readme_block_runs_and_prints_what_it_says(block: Block, tmp_path: Path) -> None:
    for need in block.needs:
        reason = NEEDS[need]()
        if reason is not None:
            message = f"README block {block.name!r} (README.md:{block.line}) needs {need}: {reason}"
            if _in_ci():
                pytest.fail(message)
            pytest.skip(message)
    expected = expected_output(block)
    env = {**os.environ, "PYTHONPATH": "", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", block.code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, f"README block {block.name!r} (README.md:{block.line}) failed:\n{proc.stderr[-3000:]}"
    printed = proc.stdout.splitlines()
    assert len(printed) == len(expected), (block.name, printed, expected)
    for want, got in zip(expected, printed):
        if want is not None:
            assert _matches(want, got), f"README block {block.name!r} printed {got!r}, its comment says {want!r}"


def test_readme_blocks_are_found_and_named() -> None:
    names = [b.name for b in BLOCKS]
    assert len(names) >= 4 and len(set(names)) == len(names), names
    assert "grammars-and-repair" in names
    assert all("path/to" not in b.code for b in BLOCKS), "README code must run as pasted, not name placeholder paths"
    assert sum(1 for b in BLOCKS for e in expected_output(b) if e is not None) >= 3, "some printed results are checked"


def test_block_parser_reads_markers_and_refuses_typos() -> None:
    text = "# Example: one\n\n<!-- readme-test: slow needs=smollm2 -->\n```python\nprint(1)  # -> 1\n```\n```bash\n# not a heading\n```\n"
    (block,) = readme_blocks(text)
    assert (block.name, block.slow, block.needs, block.line) == ("one", True, ("smollm2",), 5)
    assert expected_output(block) == ["1"]
    with pytest.raises(ValueError, match="unknown readme-test marker word 'slwo'"):
        readme_blocks("<!-- readme-test: slwo -->\n```python\npass\n```\n")
    with pytest.raises(ValueError, match="unknown"):
        readme_blocks("<!-- readme-test: needs=gpt5 -->\n```python\npass\n```\n")
    with pytest.raises(ValueError, match="right before"):
        readme_blocks("<!-- readme-test: slow -->\ntext\n```python\npass\n```\n")
    with pytest.raises(AssertionError, match="needs a"):
        expected_output(Block("x", 1, "print(2)\n"))
    assert _matches("4 took ... at 13", "4 took the content of a json code fence at 13")
    assert not _matches("True True False", "True True True")


MODULE_DISTRIBUTIONS = {"yaml": "pyyaml"}
"""Import names whose distribution is named otherwise."""
OPTIONAL_MODULES = {"triton"}
"""Imports with a fallback when absent (the fused CUDA kernel falls back to torch.compile or plain torch)."""
IMPLICIT = {"gguf", "accelerate"}
"""Distributions the built-in model needs without an import of ours (transformers loads the GGUF with them)."""


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _extras_closure(optional: dict[str, list[str]], extras: list[str]) -> set[str]:
    """Distribution names installed by ``constrain[extras]``, following ``constrain[...]`` self-references."""
    seen: set[str] = set()
    dists: set[str] = set()
    todo = list(extras)
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        assert extra in optional, f"README installs the extra [{extra}], which pyproject.toml does not define"
        for requirement in optional[extra]:
            name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)  # type: ignore[union-attr]
            inner = re.match(r"constrain\[([^\]]+)\]", requirement)
            if inner:
                todo.extend(e.strip() for e in inner.group(1).split(","))
            else:
                dists.add(_normalize(name))
    return dists


def _third_party_imports(sources: list[tuple[str, str]]) -> dict[str, str]:
    """Top-level third-party modules imported by ``(where, code)`` sources -> one place that imports it."""
    found: dict[str, str] = {}
    for where, code in sources:
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "constrain":
                    found.setdefault(top, where)
    return found


def test_readme_install_line_brings_every_import() -> None:
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    install = re.search(r'pip install -e "\.\[([a-z0-9_,-]+)\]"', README.read_text(encoding="utf-8"))
    assert install, "README's install line installs the package with extras: pip install -e \".[...]\""
    installed = _extras_closure(project["optional-dependencies"], install.group(1).split(","))
    installed |= {_normalize(re.match(r"[A-Za-z0-9_.-]+", d).group(0)) for d in project["dependencies"]}  # type: ignore[union-attr]
    sources = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in sorted((ROOT / "constrain").rglob("*.py"))]
    sources += [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").glob("*.py"))]
    sources += [(f"README.md:{b.line}", b.code) for b in BLOCKS]
    imports = _third_party_imports(sources)
    assert {"httpx", "jsonschema", "yaml", "pydantic", "lark", "torch"} <= set(imports)
    missing = {
        module: where
        for module, where in imports.items()
        if module not in OPTIONAL_MODULES and _normalize(MODULE_DISTRIBUTIONS.get(module, module)) not in installed
    }
    missing.update({name: "the built-in model" for name in IMPLICIT if name not in installed})
    assert not missing, f"README's install line ({install.group(0)}) does not install: {missing}"
