"""Locating the document inside a model's reply: code fences, prose before and after, several fenced blocks.

Models wrap their answer in Markdown fences (sometimes several, sometimes unclosed because generation stopped)
and in sentences.  This module only finds *where* candidate text lies; parsing it is the job of the format
modules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_TICKS = re.compile(r"`{3,}|~{3,}")
_LANG = re.compile(r"[ \t]*([A-Za-z][\w+.-]*)?")

JSON_LANGS = frozenset({"", "json", "jsonc", "json5", "jsonl", "javascript", "js", "ts", "typescript"})
YAML_LANGS = frozenset({"", "yaml", "yml"})


@dataclass(frozen=True)
class Region:
    """A slice ``text[start:end]`` holding candidate content.

    ``cut`` is True when the region runs to the end of the text, so that its end may be a max-token cut-off;
    a closed fence ends deliberately, so a number or word touching its end is complete.  ``lang`` is the fence's
    language tag (lower case, empty when untagged or when the region is not a fence).
    """

    start: int
    end: int
    cut: bool
    lang: str = ""
    fenced: bool = False


def find_fences(text: str) -> list[Region]:
    """Every Markdown code fence in ``text``, in order; an unclosed last fence runs to the end of the text."""
    marks = list(_TICKS.finditer(text))
    regions: list[Region] = []
    i = 0
    while i < len(marks):
        opening = marks[i]
        lang_match = _LANG.match(text, opening.end())
        lang = (lang_match.group(1) or "") if lang_match else ""
        start = lang_match.end() if lang_match else opening.end()
        if i + 1 < len(marks):
            closing = marks[i + 1]
            regions.append(Region(start, closing.start(), False, lang.lower(), True))
            i += 2
        else:
            regions.append(Region(start, len(text), True, lang.lower(), True))
            i += 1
    return regions


def first_content(text: str, start: int = 0, end: int | None = None) -> int:
    """Index of the first non-whitespace character of ``text[start:end]`` (``end`` when there is none)."""
    end = len(text) if end is None else end
    i = start
    while i < end and text[i] in " \t\r\n\ufeff\u00a0":
        i += 1
    return i
