"""The ``constrain`` command: demo, repair, generate, check, regex, sql, serve."""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
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


def _open_database(path: str) -> str | sqlite3.Connection:
    """A SQLite file as its path, or a ``.sql`` script run into a private in-memory database."""
    if not os.path.isfile(path):
        raise _UsageError(f"no SQLite database or .sql script at {path!r}")
    if not path.endswith(".sql"):
        return path
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        conn.executescript(Path(path).read_text(encoding="utf-8"))
    except sqlite3.Error as e:
        conn.close()
        raise _UsageError(f"the SQL script {path} failed: {e}") from None
    return conn


def _cmd_sql(args: argparse.Namespace) -> int:
    from .generate import load_model
    from .sql import generate_sql

    if args.n < 1:
        raise _UsageError("-n must be at least 1")
    database = _open_database(args.database)
    try:
        model, tokenizer = load_model(args.model)
        result = generate_sql(
            model, tokenizer, args.question, database, n=args.n, choose=args.choose,
            max_new_tokens=args.max_new_tokens, temperature=args.temperature if args.n > 1 else 0.0, seed=args.seed,
            timeout_s=args.timeout,
        )
    finally:
        if isinstance(database, sqlite3.Connection):
            database.close()
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


def _subcommand(
    sub: argparse._SubParsersAction, name: str, summary: str, description: str, examples: Sequence[str]
) -> argparse.ArgumentParser:
    """Add a subcommand whose ``--help`` has a description paragraph and example lines that run from the repo root."""
    heading = "example:" if len(examples) == 1 else "examples:"
    return sub.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description),
        epilog=heading + "\n" + "\n".join(f"  {line}" for line in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="constrain", description="Make language-model output follow a format exactly.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = _subcommand(
        sub, "demo", "extract a typed record with the built-in model (SmolLM2-135M-Instruct, CPU)",
        "Extract a typed record (a pydantic model: name, age, city, seniority, skills) from a short text with "
        "the built-in model SmolLM2-135M-Instruct on CPU, decoding held to the model's JSON Schema, and print "
        "the output, the value, the time and tokens/s. --model runs it with any local transformers model folder. "
        "Exit status: 0 when the output is valid, 1 when not, 2 on errors.",
        ["constrain demo"],
    )
    p.add_argument("--model", default="smollm2", help="built-in model name or a local transformers folder")
    p.set_defaults(func=_cmd_demo)
    p = _subcommand(
        sub, "repair", "repair broken JSON/YAML: repaired JSON on stdout, fixes on stderr",
        "Repair JSON or YAML as models often write it (text or a code fence around the value, single quotes, "
        "unquoted keys, comments, trailing commas, Python literals such as True, unclosed brackets), from a "
        "file or stdin. The repaired value is printed as JSON on stdout and every fix, with its position, on "
        "stderr; nothing is invented, so input that cannot be repaired without guessing is an error. "
        "Exit status: 0 repaired, 2 on errors.",
        [
            "constrain repair examples/data/broken.json --indent 2",
            "echo \"{'name': 'Ada', 'tags': ['x', 'y',],}\" | constrain repair",
        ],
    )
    p.add_argument("file", nargs="?", help="input file (default: stdin)")
    p.add_argument("--format", default="auto", choices=["auto", "json", "yaml"])
    p.add_argument("--indent", type=int, default=None)
    p.set_defaults(func=_cmd_repair)
    p = _subcommand(
        sub, "generate", "generate with a model under a regex or JSON Schema",
        "Generate a completion of PROMPT with a model (the built-in smollm2 or a local transformers folder), "
        "held token by token to a regular expression (--regex) or a JSON Schema file (--schema); without "
        "either the text is free. A tokenizer with a chat template gets PROMPT as a user message. The text "
        "is printed on stdout; validity, tokens and seconds on stderr. Exit status: 0 when the output is "
        "complete under the constraint, 1 when not (e.g. --max-new-tokens ran out), 2 on errors.",
        [
            r"constrain generate 'The date of the first Moon landing, as YYYY-MM-DD:' --regex '\d{4}-\d{2}-\d{2}' --max-new-tokens 16",
            "constrain generate 'Describe Ada Lovelace as JSON.' --schema examples/data/person.schema.json --max-new-tokens 60",
        ],
    )
    p.add_argument("prompt")
    p.add_argument("--model", default="smollm2", help="built-in model name or a local transformers folder (default: smollm2)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--regex", help="a Python regular expression the whole output must match")
    group.add_argument("--schema", help="JSON Schema file the output must validate against")
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--temperature", type=float, default=0.0, help="0 (default) is greedy decoding")
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(func=_cmd_generate)
    p = _subcommand(
        sub, "check", "validate a JSON or YAML document against a JSON Schema (exit 0 valid, 1 invalid, 2 bad input)",
        "Validate a JSON or YAML document (a file, or stdin) against a JSON Schema with the jsonschema "
        "validator (the schema's own draft; formats checked). Exit status: 0 valid; 1 invalid, with one "
        "line per error on stderr: the JSON pointer of the failing value and the message; 2 usage errors "
        "or input that cannot be read or parsed.",
        [
            "constrain check examples/data/person.schema.json examples/data/person.yaml",
            "echo '{\"name\": \"Ada\", \"age\": 36}' | constrain check examples/data/person.schema.json",
        ],
    )
    p.add_argument("schema", help="JSON Schema file (JSON, or YAML with PyYAML)")
    p.add_argument("file", nargs="?", help="document to check (default: stdin; '-' also reads stdin)")
    p.add_argument("--format", default="auto", choices=["auto", "json", "yaml"], help="how to parse the document (auto: JSON, else YAML)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when the document is valid")
    p.set_defaults(func=_cmd_check)
    p = _subcommand(
        sub, "regex", "write a Python regex from a description (and examples) with a model",
        "Generate N candidate Python regular expressions for a description, with decoding held to regex "
        "syntax; check each with re.compile and the examples (positives must fully match, negatives must "
        "not), and print the best: most examples passed, then highest mean log-probability. Exit status: "
        "0 when the printed regex passes every example, 1 when it misses some (or none compiled), 2 on errors.",
        ["constrain regex 'a US zip code: five digits' -p 12345 -p 90210 -x 1234 -x abcde --max-new-tokens 24"],
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
    p = _subcommand(
        sub, "sql", "answer a question about a SQLite database with SQL written by a model, and run it read-only",
        "Write N candidate SELECT queries for a question, with decoding held to SQL over the database's own "
        "tables, columns and functions (constrain.sql.from_sqlite); run each on a read-only connection with a "
        "time limit, and print the chosen query (the most common result among those that ran, or the highest "
        "mean log-probability with --choose logprob) and its rows, tab-separated. DATABASE is a SQLite file, "
        "or a .sql script that is loaded into a private in-memory database first. Exit status: 0 when a query "
        "ran, 1 when none did, 2 on errors.",
        ["constrain sql examples/data/world.sql 'which country has the largest population' -n 3"],
    )
    p.add_argument("database", help="SQLite database file (opened read-only), or a .sql script to load into memory")
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

    p = add_serve_parser(sub)
    p.description = textwrap.fill(
        "Serve a model (the built-in smollm2 or a local transformers folder) over an OpenAI-compatible HTTP API: "
        "GET /v1/models, POST /v1/chat/completions and /v1/completions (streaming too), with decoding held "
        "to the request's response_format (json_schema, json_object) or to the extension fields regex, "
        "choice, grammar and grammar_name. Point any OpenAI client, or constrain.openai_compat.Client, at the "
        "printed URL. It binds to 127.0.0.1 unless --host says otherwise and runs until interrupted. "
        "Exit status: 0 after Ctrl-C, 2 on errors."
    )
    p.epilog = "example:\n  constrain serve --port 8000"
    p.formatter_class = argparse.RawDescriptionHelpFormatter
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
