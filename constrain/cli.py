"""The ``constrain`` command: demo, repair, generate, check, regex, sql, serve."""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
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


class _UsageError(Exception):
    """Bad input for a subcommand: reported on stderr, exit status 2."""


def _load_document(text: str, name: str, fmt: str) -> object:
    """Parse ``text`` as JSON or YAML (``fmt`` auto: JSON first, then YAML)."""
    if fmt in ("auto", "json"):
        try:
            return json.loads(text)
        except ValueError as e:
            if fmt == "json":
                raise _UsageError(f"{name} is not valid JSON: {e}") from None
    try:
        import yaml
    except ImportError:
        raise _UsageError(f"{name} is not valid JSON, and reading YAML needs PyYAML: pip install 'constrain[yaml]'") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise _UsageError(f"{name} is neither valid JSON nor valid YAML: {e}") from None


def _json_pointer(parts: object) -> str:
    """RFC 6901 pointer for a path of keys and indexes ("" is the whole document)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)  # type: ignore[attr-defined]


def _cmd_check(args: argparse.Namespace) -> int:
    try:
        import jsonschema
    except ImportError:
        raise _UsageError("`constrain check` needs jsonschema: pip install jsonschema") from None
    schema_path = Path(args.schema)
    try:
        schema_text = schema_path.read_text(encoding="utf-8")
    except OSError as e:
        raise _UsageError(f"cannot read the schema {args.schema}: {e.strerror or e}") from None
    schema = _load_document(schema_text, f"the schema {args.schema}", "auto")
    if not isinstance(schema, (dict, bool)):
        raise _UsageError(f"the schema {args.schema} must be a JSON object (or a boolean), not {type(schema).__name__}")
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise _UsageError(f"the schema {args.schema} is not a valid JSON Schema: {e.message} (at {_json_pointer(e.path) or '/'})") from None
    name = "stdin" if args.file in (None, "-") else args.file
    try:
        text = _read(args.file)
    except OSError as e:
        raise _UsageError(f"cannot read {name}: {e.strerror or e}") from None
    document = _load_document(text, name, args.format)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        if not args.quiet:
            print(f"{name}: valid", file=sys.stderr)
        return 0
    for error in errors:
        print(f"{_json_pointer(error.absolute_path) or '/'}: {error.message}", file=sys.stderr)
    print(f"{name}: {len(errors)} error{'s' if len(errors) != 1 else ''}", file=sys.stderr)
    return 1


def _cmd_regex(args: argparse.Namespace) -> int:
    from .generate import load_model
    from .regex_tool import generate_regex

    if args.n < 1:
        raise _UsageError("-n must be at least 1")
    model, tokenizer = load_model(args.model)
    result = generate_regex(
        model,
        tokenizer,
        args.description,
        args.positive,
        args.negative,
        n=args.n,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        seed=args.seed,
        constrained=not args.unconstrained,
    )
    if args.verbose:
        print(result.summary(), file=sys.stderr)
    if result.regex is None:
        print("error: no candidate compiled; try a larger -n", file=sys.stderr)
        return 1
    print(result.regex)
    chosen = result.chosen
    assert chosen is not None
    total = len(result.positive) + len(result.negative)
    print(f"examples passed={chosen.passed}/{total} candidates={len(result.candidates)} seconds={result.seconds:.2f}", file=sys.stderr)
    return 0 if chosen.all_passed else 1


def _cmd_sql(args: argparse.Namespace) -> int:
    import os

    from .generate import load_model
    from .sql import generate_sql

    if args.n < 1:
        raise _UsageError("-n must be at least 1")
    if not os.path.isfile(args.database):
        raise _UsageError(f"no SQLite database at {args.database!r}")
    model, tokenizer = load_model(args.model)
    result = generate_sql(
        model, tokenizer, args.question, args.database, n=args.n, choose=args.choose,
        max_new_tokens=args.max_new_tokens, temperature=args.temperature if args.n > 1 else 0.0, seed=args.seed,
        timeout_s=args.timeout,
    )
    if args.verbose:
        for a in result.attempts:
            status = "ok" if a.execution is not None and a.execution.ok else (a.execution.error if a.execution else "empty")
            print(f"candidate ({a.mean_logprob:.3f}, {status}): {a.sql}", file=sys.stderr)
    if result.sql is None:
        print("error: no candidate ran; try a larger -n", file=sys.stderr)
        return 1
    print(result.sql)
    for row in (result.rows or [])[: args.max_rows]:
        print("\t".join("NULL" if v is None else str(v) for v in row))
    print(f"rows={len(result.rows or [])} ran={result.executable}/{len(result.attempts)} votes={result.votes}", file=sys.stderr)
    return 0


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
    p = sub.add_parser(
        "check",
        help="validate a JSON or YAML document against a JSON Schema (exit 0 valid, 1 invalid, 2 bad input)",
        description=textwrap.fill(
            "Validate a JSON or YAML document (a file, or stdin) against a JSON Schema with the jsonschema "
            "validator (the schema's own draft; formats checked). Exit status: 0 valid; 1 invalid, with one "
            "line per error on stderr: the JSON pointer of the failing value and the message; 2 usage errors "
            "or input that cannot be read or parsed."
        ),
        epilog="example:\n  constrain check person.schema.json person.yaml\n  echo '{\"age\": -1}' | constrain check person.schema.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("schema", help="JSON Schema file (JSON, or YAML with PyYAML)")
    p.add_argument("file", nargs="?", help="document to check (default: stdin; '-' also reads stdin)")
    p.add_argument("--format", default="auto", choices=["auto", "json", "yaml"], help="how to parse the document (auto: JSON, else YAML)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when the document is valid")
    p.set_defaults(func=_cmd_check)
    p = sub.add_parser(
        "regex",
        help="write a Python regex from a description (and examples) with a model",
        description=textwrap.fill(
            "Generate N candidate Python regular expressions for a description, with decoding held to regex "
            "syntax; check each with re.compile and the examples (positives must fully match, negatives must "
            "not), and print the best: most examples passed, then highest mean log-probability. Exit status: "
            "0 when the printed regex passes every example, 1 when it misses some (or none compiled), 2 on errors."
        ),
        epilog=(
            "example:\n  constrain regex 'a US zip code, optionally with a 4-digit extension' "
            "--positive 12345 --positive 12345-6789 --negative 1234 -n 5"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("description", help="what the regex should match, in words")
    p.add_argument("--positive", "-p", action="append", default=[], metavar="TEXT", help="a string the regex must fully match (repeatable)")
    p.add_argument("--negative", "-x", action="append", default=[], metavar="TEXT", help="a string it must not match (repeatable)")
    p.add_argument("--model", default="smollm2", help="built-in model name or a local transformers folder (default: smollm2)")
    p.add_argument("-n", type=int, default=5, help="candidates to draw (default: 5; the first is greedy)")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--temperature", type=float, default=0.7, help="sampling temperature of candidates after the first")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--unconstrained", action="store_true", help="let the model write freely and extract the regex (for comparison)")
    p.add_argument("-v", "--verbose", action="store_true", help="list every candidate on stderr")
    p.set_defaults(func=_cmd_regex)
    p = sub.add_parser(
        "sql",
        help="answer a question about a SQLite database with SQL written by a model, and run it read-only",
        description=(
            "Write N candidate SELECT queries for a question, with decoding held to SQL over the database's own "
            "tables, columns and functions (constrain.sql.from_sqlite); run each on a read-only connection with a "
            "time limit, and print the chosen query (the most common result among those that ran, or the highest "
            "mean log-probability with --choose logprob) and its rows, tab-separated. Exit status: 0 when a query "
            "ran, 1 when none did, 2 on errors."
        ),
        epilog="example:\n  constrain sql geography.sqlite 'which state has the largest population' -n 5",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("database", help="SQLite database file (opened read-only)")
    p.add_argument("question", help="the question, in words")
    p.add_argument("--model", default="smollm2", help="built-in model name or a local transformers folder (default: smollm2)")
    p.add_argument("-n", type=int, default=5, help="candidates to draw in one batch (default: 5; 1 means greedy)")
    p.add_argument("--choose", default="vote", choices=["vote", "logprob"], help="how to pick among queries that ran")
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=2.0, help="seconds each query may run (default: 2)")
    p.add_argument("--max-rows", type=int, default=20, help="rows to print (default: 20)")
    p.add_argument("-v", "--verbose", action="store_true", help="list every candidate and how it ran on stderr")
    p.set_defaults(func=_cmd_sql)
    from .openai_compat.server import add_serve_parser

    add_serve_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``constrain`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except _UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ConstrainError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
