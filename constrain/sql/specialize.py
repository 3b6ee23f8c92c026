"""``grammars/sqlite.lark`` specialised to one database: its tables, their columns, its functions.

The generic grammar lets any identifier stand for a table, a column or a function. Here:

Enforced exactly
  * a table in ``FROM``/``JOIN``/``IN`` is one of the database's tables or views (any letter case, quoted or
    not);
  * ``T.column`` with ``T`` a table name: ``column`` is a column of ``T``; ``T.*`` likewise;
  * in a ``SELECT`` whose ``FROM`` is one table (the common case), an unqualified column is a column of that
    table: the select core is written once per table, with its own copy of the expression rules (a subquery
    opens its own scope, so an unqualified column of an enclosing query is not accepted inside it; qualify
    it). A ``SELECT`` that joins several sources, reads a subquery or has no ``FROM`` must qualify its
    columns (``c.name``, ``city.name``), so a column is never taken from a table the query does not read
    (unqualified column lists over joins are a documented gap in exchange);
  * a function call names a scalar or aggregate function the connection has, with an argument count it
    declares (variadic functions take one or more arguments); window-only functions are left out;
  * ``COLLATE`` names a collation the connection has;
  * ``x IN table`` names a table with exactly one column (SQLite refuses the others);
  * an alias qualifier is not a table or column name of the database (``state_name.x`` is refused: a model
    that reaches for a column it cannot use would otherwise turn it into an undefined alias);
  * an alias is written with ``AS`` (``FROM city AS c``, ``count(*) AS n``): an implicit alias would let any
    word follow a table or an expression, and a model uses that to glue text onto a keyword (``WHEREx``);
  * read-only: one ``SELECT`` statement (with compound operators, joins, subqueries, ``CASE``...), no
    ``WITH`` (its table names are defined by the query itself), no ``INSERT``/``UPDATE``/``DELETE``.

Not enforced (context-sensitive, beyond a context-free grammar)
  * that a qualifier which is not a table name (an alias such as ``c1.name``) is defined in the query's
    ``FROM``, and which columns it has: after such a qualifier any identifier is accepted, since the alias
    may name a subquery whose columns the query defines (``t.total`` for ``(SELECT COUNT(*) AS total ...) t``);
  * in ``ORDER BY`` and ``LIMIT``, which table an unqualified column comes from (any column of the database is
    accepted there), and that an unqualified column is unambiguous;
  * result aliases in ``ORDER BY`` (only column names are accepted there).

As in SQLite, a double-quoted word that is not a column is read as a string, so ``"arizona"`` is a literal.
"""
from __future__ import annotations

import re
from pathlib import Path

from .schema import Schema

__all__ = ["specialised_grammar", "grammar_functions", "identifier_excluding", "GRAMMAR_PATH", "RESERVED"]

GRAMMAR_PATH = Path(__file__).resolve().parents[2] / "grammars" / "sqlite.lark"

RESERVED = frozenset("""select from where group by having order limit offset union intersect except all distinct as
on using join left right full inner outer cross natural and or not in is null like glob regexp match between case
when then else end exists cast asc desc with values insert into update set delete collate escape isnull notnull
default returning""".split())

WINDOW_ONLY = frozenset("""row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value
nth_value""".split())
LEFT_OUT = frozenset("""load_extension fts3_tokenizer fts5 fts5_source_id bm25 highlight snippet matchinfo offsets
optimize rtreecheck rtreedepth rtreenode changes total_changes last_insert_rowid random randomblob zeroblob subtype
sqlite_log sqlite_compileoption_get sqlite_compileoption_used sqlite_source_id sqlite_version like glob match
regexp""".split())

OPERATOR_FUNCTIONS = frozenset({"like", "glob", "regexp", "match", "->", "->>"})
"""Functions SQLite calls for operators of the grammar (``x LIKE y`` calls ``like``, ``j -> p`` calls ``->``)."""

_WORD_END = "(?![A-Za-z0-9_\\x80-\\U0010ffff])"
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def identifier_excluding(words: set[str] | frozenset[str]) -> str:
    """A regex for bare identifiers ``[A-Za-z_][A-Za-z0-9_]*`` except ``words`` (any letter case).

    Written as the complement of the words' trie: at each trie node, a character that leaves the trie
    starts a free tail, one that follows it recurses, and the node may end unless it is a word.
    """
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w.lower():
            node = node.setdefault(ch, {})
        node[""] = {}

    def alternatives(node: dict, first: bool) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyz_" + ("" if first else "0123456789")
        branches = [re.escape(ch) + alternatives(node[ch], False) for ch in sorted(node) if ch]
        others = "".join(ch for ch in alphabet if ch not in node)
        if others:
            branches.append(f"[{re.escape(others)}][a-z0-9_]*")
        body = "(?:" + "|".join(branches) + ")"
        if first:
            return body
        return body if "" in node else body + "?"

    return f"(?ai:{alternatives(trie, True)}){_WORD_END}"


def _terminal(name: str, words: list[str]) -> str:
    """A terminal for several SQL names; its lookahead sits at the end of the whole pattern."""
    bare = [w for w in words if _BARE.match(w) and w.lower() not in RESERVED]
    quoted = [re.escape('"' + w.replace('"', '""') + '"') for w in words]
    parts = []
    if bare:
        parts.append(f"(?ai:{'|'.join(re.escape(w) for w in sorted(set(bare), key=str.lower))})")
    parts += sorted(set(quoted))
    return f"{name}: /(?:{'|'.join(parts)}){_WORD_END}/"


def _replace_rule(text: str, name: str, body: str) -> str:
    """Replace the definition of rule ``name`` (its first line and indented continuation lines)."""
    pattern = re.compile(rf"^\??{re.escape(name)}:.*?(?=^\S|\Z)", re.M | re.S)
    if not pattern.search(text):
        raise ValueError(f"rule {name} not found in {GRAMMAR_PATH.name}")
    return pattern.sub(lambda _m: body.rstrip("\n") + "\n", text, count=1)


_EXPRESSION_RULES = ("expr_list", "expr", "or_expr", "and_expr", "not_expr", "equality", "comparison", "bitwise",
                     "additive", "multiplicative", "concat", "collated", "unary", "primary", "in_target",
                     "function_call", "filter_clause", "case_expr", "cast_expr", "column_ref")


def _rule_text(text: str, name: str) -> str:
    found = re.search(rf"^\??{re.escape(name)}:.*?(?=^\S|\Z)", text, re.M | re.S)
    if found is None:
        raise ValueError(f"rule {name} not found")
    return found.group(0)


def _scoped_selects(text: str, schema: Schema, tables: list[str], table_terms: list[str], column_term: dict[str, str]) -> str:
    """Select cores with column scopes: a ``SELECT`` reading one table sees only that table's unqualified
    columns, and one that joins several sources (or reads a subquery, or has no ``FROM``) qualifies every
    column (``c.name``, ``city.name``).

    The expression rules are copied per scope (renamed with a ``_t<i>`` or ``_q`` suffix), each with its own
    ``column_ref``.
    """
    renames = re.compile(r"\b(" + "|".join(_EXPRESSION_RULES) + r")\b")
    blocks = [_rule_text(text, r) for r in _EXPRESSION_RULES]
    qualified = ("          | QUALIFIER \".\" (ANY_COLUMN | DERIVED_COLUMN)\n" + "".join(
        f"          | {table_terms[j]} \".\" {column_term[t]}\n" for j, t in enumerate(tables) if schema.tables[t]))
    out: list[str] = []

    def scope(suffix: str, bare: str | None) -> None:
        for block in blocks:
            copied = renames.sub(lambda m: m.group(1) + suffix, block)
            if block.lstrip("?").startswith("column_ref:"):
                first = f"column_ref{suffix}: {bare}\n" if bare else f"column_ref{suffix}: " + qualified.lstrip(" |")
                copied = first + (qualified if bare else "")
            out.append(copied.rstrip("\n"))
        out.append(f"result_column{suffix}: \"*\"\n"
                   f"             | (table_name | QUALIFIER) \".\" \"*\"\n"
                   f"             | expr{suffix} (AS alias)?")

    cores = []
    for i, table in enumerate(tables):
        if not schema.tables[table]:
            continue
        scope(f"_t{i}", column_term[table])
        cores.append(f"SELECT (DISTINCT | ALL)? result_column_t{i} (\",\" result_column_t{i})* "
                     f"FROM {table_terms[i]} (AS alias)? (WHERE expr_t{i})? "
                     f"(GROUP BY expr_list_t{i} (HAVING expr_t{i})?)?")
    scope("_q", None)
    core = ("select_core: " + "\n           | ".join(cores) +
            "\n           | SELECT (DISTINCT | ALL)? result_column_q (\",\" result_column_q)* (FROM many_sources)? "
            "(WHERE expr_q)? (GROUP BY expr_list_q (HAVING expr_q)?)?"
            "\n           | VALUES row (\",\" row)*\n"
            "many_sources: join_source_q join_op table_or_subquery join_constraint_q?\n"
            "            | \"(\" select_stmt \")\" (AS alias)?\n"
            "            | \"(\" join_source_q \")\"\n"
            "join_source_q: table_or_subquery\n"
            "             | join_source_q join_op table_or_subquery join_constraint_q?\n"
            "join_constraint_q: ON expr_q\n"
            "                 | USING column_list")
    text = _replace_rule(text, "select_core", core)
    return text + "\n// ---------------------------------------------------------------- column scopes\n" + "\n".join(out) + "\n"


def _callable(name: str) -> bool:
    """Whether the grammar lets a query call the function ``name`` by name."""
    return name not in WINDOW_ONLY and name not in LEFT_OUT and bool(_BARE.match(name)) and name not in RESERVED


def grammar_functions(signatures: dict[str, set[int]]) -> frozenset[str]:
    """The SQL functions a query of the specialised grammar can make SQLite call: the functions it names, and
    those behind its operators (``LIKE``, ``GLOB``, ``->``...) that the connection has."""
    return frozenset(fn for fn in signatures if _callable(fn)) | (OPERATOR_FUNCTIONS & set(signatures))


def _functions(schema: Schema, signatures: dict[str, set[int]]) -> tuple[list[str], list[str]]:
    """Rules and terminals for function calls, one terminal per distinct argument-count signature."""
    groups: dict[tuple[int, ...], list[str]] = {}
    for fn, nargs in signatures.items():
        if not _callable(fn):
            continue
        groups.setdefault(tuple(sorted(nargs)), []).append(fn)
    alternatives, terminals = [], []
    for k, (sig, names) in enumerate(sorted(groups.items())):
        terminal = f"FN_{k}"
        terminals.append(_terminal(terminal, sorted(names)))
        shapes = []
        for n in sig:
            if n < 0:
                shapes.append('"(" DISTINCT? expr_list ")"')
            elif n == 0:
                shapes.append('"(" ")"')
            else:
                shapes.append('"(" DISTINCT? expr' + ' "," expr' * (n - 1) + ' ")"')
        if "count" in names:
            shapes.append('"(" "*" ")"')
        alternatives.append(f"{terminal} (" + " | ".join(shapes) + ")")
    rule = "function_call: " + "\n             | ".join(alternatives) if alternatives else "function_call: NO_FUNCTION"
    return [rule], terminals


def specialised_grammar(
    schema: Schema,
    function_signatures: dict[str, set[int]],
    read_only: bool = True,
    comments: bool = False,
    scoped: bool = True,
) -> str:
    """The Lark text of the SQL grammar for ``schema`` (see the module docstring).

    ``read_only=False`` keeps ``INSERT``/``UPDATE``/``DELETE`` (targets are tables of the database, assigned
    and listed columns are its columns) and several statements separated by ``;``. ``comments=False`` (the
    default) leaves out SQL comments: they add nothing to a generated query and hold unbounded free text.
    ``scoped=False`` accepts any column of the database unqualified, even in a one-table ``SELECT``.
    """
    if not schema.tables:
        raise ValueError("the database has no tables")
    text = GRAMMAR_PATH.read_text(encoding="utf-8")
    tables = list(schema.tables)
    table_terms = [f"TABLE_{i}" for i in range(len(tables))]
    column_term = {t: f"COLUMNS_{i}" for i, t in enumerate(tables)}
    rules = {
        "start": "start: select_stmt \";\"?" if read_only else "start: statement (\";\" statement)* \";\"?",
        "select_stmt": "select_stmt: compound_select order_by? limit_clause?",
        "qualified_name": "qualified_name: table_name",
        "column_list": "column_list: \"(\" ANY_COLUMN (\",\" ANY_COLUMN)* \")\"",
        "assignment": "assignment: (ANY_COLUMN | column_list) \"=\" expr",
        "table_or_subquery": "table_or_subquery: table_name (AS alias)?\n"
                             "                 | \"(\" select_stmt \")\" (AS alias)?\n"
                             "                 | \"(\" join_source \")\"",
        "result_column": "result_column: \"*\"\n"
                         "             | (table_name | QUALIFIER) \".\" \"*\"\n"
                         "             | expr (AS alias)?",
        "in_target": "in_target: \"(\" (select_stmt | expr_list)? \")\"" + "".join(
            f"\n         | {table_terms[i]}" for i, t in enumerate(tables) if len(schema.tables[t]) == 1),
        "column_ref": "column_ref: ANY_COLUMN\n          | QUALIFIER \".\" (ANY_COLUMN | DERIVED_COLUMN)\n" + "".join(
            f"          | {table_terms[i]} \".\" {column_term[t]}\n" for i, t in enumerate(tables) if schema.tables[t]),
        "ordering_term": "ordering_term: expr (COLLATE COLLATION)? (ASC | DESC)? (NULLS (FIRST | LAST))?",
        "collated": "?collated: unary\n         | collated COLLATE COLLATION",
        "literal": "literal: NUMBER\n       | STRING\n       | BLOB\n       | NULL\n       | DQ_STRING",
    }
    for name, body in rules.items():
        text = _replace_rule(text, name, body)
    if not comments:
        text = text.replace("%ignore LINE_COMMENT\n", "").replace("%ignore BLOCK_COMMENT\n", "")
    function_rules, function_terms = _functions(schema, function_signatures)
    text = _replace_rule(text, "function_call", "\n".join(function_rules))
    if scoped:
        text = _scoped_selects(text, schema, tables, table_terms, column_term)
    extra = ["", "// ---------------------------------------------------------------- this database",
             "table_name: " + " | ".join(table_terms)]
    extra += [_terminal(table_terms[i], [t]) for i, t in enumerate(tables)]
    extra += [_terminal(column_term[t], list(cols)) for t, cols in schema.tables.items() if cols]
    extra.append(_terminal("ANY_COLUMN", sorted(schema.columns)))
    extra.append(_terminal("COLLATION", sorted(schema.collations)))
    names = {t.lower() for t in tables} | {col.lower() for col in schema.columns}
    extra.append(f"QUALIFIER: /{identifier_excluding(RESERVED | names)}/")
    extra.append('DQ_STRING: /"(?:[^"]|"")*"/')
    extra.append(f"DERIVED_COLUMN: /{identifier_excluding(RESERVED)}/")
    extra += function_terms
    return text + "\n".join(extra) + "\n"
