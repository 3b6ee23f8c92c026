"""Context-free grammars: the grammar IR, the Lark front end, the lexer and the Earley parser."""
