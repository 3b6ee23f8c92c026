"""Every ``constrain`` subcommand's ``--help`` has a description and examples, and every example runs as written.

The examples are read from the help text itself (the lines under ``example:``/``examples:``) and run with
bash from the repository root, with this interpreter's ``constrain`` script first on ``PATH``; each must
exit 0. Subcommands that load a model are in the slow suite. ``constrain serve`` runs until interrupted:
its example is started, asked for ``/v1/models`` once it prints its URL, then stopped with Ctrl-C (SIGINT).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from constrain import cli

ROOT = Path(__file__).resolve().parents[2]
MODEL_SUBCOMMANDS = {"demo", "generate", "regex", "sql", "serve"}
"""Subcommands that load a model (their examples run in the slow suite)."""
MODEL_FREE_SUBCOMMANDS = {"repair", "check"}


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def help_examples(help_text: str) -> list[str]:
    """The command lines listed under the ``example:`` or ``examples:`` heading of a help text."""
    lines = help_text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() in ("example:", "examples:")]
    examples: list[str] = []
    for start in starts:
        for line in lines[start + 1 :]:
            if not line.startswith("  ") or not line.strip():
                break
            examples.append(line.strip())
    return examples


SUBPARSERS = _subparsers()
EXAMPLES = [(name, example) for name, p in SUBPARSERS.items() for example in help_examples(p.format_help())]


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", "HF_HUB_OFFLINE": "1"}


def test_every_subcommand_has_a_description_and_an_example() -> None:
    assert set(SUBPARSERS) == MODEL_SUBCOMMANDS | MODEL_FREE_SUBCOMMANDS, "classify a new subcommand above"
    for name, parser in SUBPARSERS.items():
        help_text = parser.format_help()
        assert parser.description and len(parser.description.split()) >= 15, f"{name} needs a description paragraph"
        assert "Exit status" in parser.description, f"{name}'s description should say what its exit status means"
        examples = help_examples(help_text)
        assert examples, f"constrain {name} --help has no example"
        assert all(re.search(rf"(^|\| )constrain {name}( |$)", e) for e in examples), (name, examples)


def test_help_examples_parse_and_name_files_that_exist() -> None:
    for name, example in EXAMPLES:
        command = example.split("| ")[-1]
        argv = shlex.split(command)[1:]
        args = cli.build_parser().parse_args(argv)
        assert args.command == name
        for value in vars(args).values():
            if isinstance(value, str) and re.fullmatch(r"[\w./-]+\.(json|yaml|sql|sqlite|lark)", value):
                assert (ROOT / value).is_file(), f"`{example}` names {value}, which is not in the repository"


def test_help_example_extraction() -> None:
    text = "usage: x\n\nexamples:\n  constrain a 1\n  echo x | constrain a\n\nother:\n  not this\n"
    assert help_examples(text) == ["constrain a 1", "echo x | constrain a"]
    assert help_examples("example:\n  constrain b\n") == ["constrain b"]
    assert help_examples("no examples here\n") == []


def _serve(example: str) -> None:
    """Start the serve example, query it once it prints its URL, stop it with SIGINT; it must exit 0."""
    proc = subprocess.Popen(["bash", "-c", f"exec {example}"], cwd=ROOT, env=_env(), stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    try:
        assert proc.stderr is not None
        url = None
        for line in proc.stderr:
            seen.append(line)
            found = re.search(r"serving .* at (http://\S+)", line)
            if found:
                url = found.group(1)
                break
        assert url, f"`{example}` never said where it serves:\n{''.join(seen)[-3000:]}"
        with urllib.request.urlopen(f"{url}/models", timeout=60) as response:
            assert response.status == 200 and json.load(response)["data"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    "name,example",
    [pytest.param(n, e, id=f"{n}:{e[:60]}", marks=[pytest.mark.slow] if n in MODEL_SUBCOMMANDS else []) for n, e in EXAMPLES],
)
def test_help_example_runs_as_written(name: str, example: str) -> None:
    if name == "serve":
        _serve(example)
        return
    proc = subprocess.run(["bash", "-c", example], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, f"`{example}` exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
