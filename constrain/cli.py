"""The ``constrain`` command: demo, repair, generate."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from .errors import ConstrainError


def _read(path: str | None) -> str:
    return sys.stdin.read() if path in (None, "-") else Path(path).read_text(encoding="utf-8")


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.model)


def _cmd_repair(args: argparse.Namespace) -> int:
    from .repair import repair

    result = repair(_read(args.file), format=args.format)
    for fix in result.fixes:
        print(f"fix: {fix}", file=sys.stderr)
    if result.ambiguous:
        print("warning: the repair is ambiguous; check the value", file=sys.stderr)
    print(json.dumps(result.value, ensure_ascii=False, indent=args.indent))
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from .constraints import regex
    from .generate import generate, load_model

    output: object = None
    if args.regex:
        output = regex(args.regex)
    elif args.schema:
        output = json.loads(_read(args.schema))
    model, tokenizer = load_model(args.model)
    prompt: object = [{"role": "user", "content": args.prompt}] if getattr(tokenizer, "chat_template", None) else args.prompt
    result = generate(model, tokenizer, prompt, output, max_new_tokens=args.max_new_tokens, temperature=args.temperature, seed=args.seed)  # type: ignore[arg-type]
    print(result.text)
    print(f"valid={result.valid} tokens={result.num_tokens} seconds={result.seconds:.2f}", file=sys.stderr)
    return 0 if result.valid else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="constrain", description="Make language-model output follow a format exactly.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="extract a typed record with the built-in model (SmolLM2-135M-Instruct, CPU)")
    p.add_argument("--model", default="smollm2", help="built-in model name or a local transformers folder")
    p.set_defaults(func=_cmd_demo)
    p = sub.add_parser("repair", help="repair broken JSON/YAML: repaired JSON on stdout, fixes on stderr")
    p.add_argument("file", nargs="?", help="input file (default: stdin)")
    p.add_argument("--format", default="auto", choices=["auto", "json", "yaml"])
    p.add_argument("--indent", type=int, default=None)
    p.set_defaults(func=_cmd_repair)
    p = sub.add_parser("generate", help="generate with a model under a regex or JSON Schema")
    p.add_argument("prompt")
    p.add_argument("--model", default="smollm2")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--regex")
    group.add_argument("--schema", help="JSON Schema file")
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(func=_cmd_generate)
    from .openai_compat.server import add_serve_parser

    add_serve_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``constrain`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConstrainError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
