"""Which shared Lark grammars load and which are refused, and why (a record that must stay true)."""
import os
from pathlib import Path

import pytest

from constrain.errors import GrammarError
from constrain.grammar.lark_frontend import load_lark
from tests.data import SHARED as SHARED_DATA

SHARED = str(SHARED_DATA / "grammars")

# path -> None when the grammar loads, else a fragment of the refusal message.
EXPECTED = {
    "lark/examples/advanced/python2.lark": "%declare _INDENT _DEDENT",
    "lark/examples/advanced/template_lark.lark": "negative lookaround",
    "lark/examples/composition/csv.lark": None,
    "lark/examples/composition/json.lark": None,
    "lark/examples/composition/storage.lark": None,
    "lark/examples/grammars/verilog.lark": "negative lookaround",
    "lark/examples/relative-imports/multiple2.lark": None,
    "lark/examples/relative-imports/multiple3.lark": None,
    "lark/examples/relative-imports/multiples.lark": None,
    "lark/examples/standalone/json.lark": None,
    "lark/examples/tests/negative_priority.lark": None,
    "lark/examples/tests/no_newline_at_end.lark": None,
    "lark/lark/grammars/common.lark": "start rule 'start' is not defined",
    "lark/lark/grammars/lark.lark": "negative lookaround",
    "lark/lark/grammars/python.lark": "%declare _INDENT _DEDENT",
    "lark/lark/grammars/unicode.lark": "start rule 'start' is not defined",
    "lark/tests/grammars/ab.lark": "start rule 'start' is not defined",
    "lark/tests/grammars/leading_underscore_grammar.lark": "start rule 'start' is not defined",
    "lark/tests/grammars/templates.lark": "start rule 'start' is not defined",
    "lark/tests/grammars/test.lark": "start rule 'start' is not defined",
    "lark/tests/grammars/test_relative_import_of_nested_grammar.lark": None,
    "lark/tests/grammars/test_relative_import_of_nested_grammar__grammar_to_import.lark": "start rule 'start'",
    "lark/tests/grammars/test_relative_import_of_nested_grammar__nested_grammar.lark": "start rule 'start'",
    "lark/tests/grammars/test_unicode.lark": "start rule 'start' is not defined",
    "lark/tests/grammars/three_rules_using_same_token.lark": "start rule 'start' is not defined",
    "lark/tests/test_relative_import.lark": None,
    "lark/tests/test_relative_import_preserves_leading_underscore.lark": None,
    "lark/tests/test_relative_import_rename.lark": None,
    "lark/tests/test_relative_import_rules_dependencies_imported_only_once.lark": None,
    "lark/tests/test_relative_import_unicode.lark": None,
    "lark/tests/test_relative_multi_import.lark": None,
    "lark/tests/test_relative_rule_import.lark": None,
    "lark/tests/test_relative_rule_import_drop_ignore.lark": None,
    "lark/tests/test_relative_rule_import_rename.lark": None,
    "lark/tests/test_relative_rule_import_subrule.lark": None,
    "lark/tests/test_relative_rule_import_subrule_no_conflict.lark": None,
    "lark/tests/test_templates_import.lark": None,
    "llguidance/sample_parser/data/lark.lark": None,
    "llguidance/sample_parser/data/rfc.lark": "Empty terminals are not allowed",
    "llguidance/sample_parser/tests/py/simple_py.lark": "Unexpected input",
    "syncode/syncode/parsers/grammars/c_grammar.lark": None,
    "syncode/syncode/parsers/grammars/calc_grammar.lark": None,
    "syncode/syncode/parsers/grammars/go_grammar.lark": None,
    "syncode/syncode/parsers/grammars/invariants.lark": None,
    "syncode/syncode/parsers/grammars/java_grammar.lark": None,
    "syncode/syncode/parsers/grammars/json_grammar.lark": None,
    "syncode/syncode/parsers/grammars/prover9_grammar.lark": None,
    "syncode/syncode/parsers/grammars/python_grammar.lark": "%declare _INDENT _DEDENT",
    "syncode/syncode/parsers/grammars/sql_grammar.lark": None,
    "syncode/syncode/parsers/grammars/tiny_grammar.lark": None,
}


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_shared_grammar_status(path):
    full = os.path.join(SHARED, path)
    if not os.path.exists(full):
        pytest.skip("shared grammars not available")
    expected = EXPECTED[path]
    if expected is None:
        assert load_lark(Path(full)).rules
    else:
        with pytest.raises(GrammarError) as info:
            load_lark(Path(full))
        assert expected in str(info.value)
        if "%declare" in expected or "lookaround" in expected:
            assert info.value.line is not None
