"""Where a grammar comes from: a ``str`` is always grammar text, an ``os.PathLike`` is a file to read.

The type decides, never the content: a string that happens to name a file is still grammar text, so text
that arrives from elsewhere (a server request) can never make the library open a file.
"""
from __future__ import annotations

import os

__all__ = ["read_source"]


def read_source(source: str | os.PathLike[str]) -> tuple[str, str | None]:
    """The grammar text and, for a file, its absolute path (``None`` for text given as a ``str``)."""
    if isinstance(source, str):
        return source, None
    if isinstance(source, os.PathLike):
        path = os.path.abspath(os.fsdecode(os.fspath(source)))
        with open(path, encoding="utf-8") as f:
            return f.read(), path
    raise TypeError(f"a grammar is text (str) or a file (os.PathLike such as pathlib.Path), not {type(source).__name__}")
