"""Compilation context: the schema document, where each subschema sits, and reference resolution.

The document is indexed once: every subschema gets its JSON pointer (for error messages) and its
base URI (``$id`` resolved against the enclosing base). ``$ref`` is resolved within the document:
JSON-pointer fragments, ``$anchor`` (and draft 7 ``$id: "#name"``), ``$defs``/``definitions``, and
``$id``-named subresources. References to other documents are refused. The context also keeps the
compile-wide state: options, the refs being expanded (to detect recursion), the keywords dropped in
lenient mode, and the property-name ranks that fix the canonical key order.
"""
from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import unquote, urldefrag, urljoin

from ..errors import SchemaError, UnsupportedSchema
from .options import Options

DEFAULT_BASE = "https://constrain.invalid/schema.json"
_DATA_KEYWORDS = frozenset({"enum", "const", "examples", "default"})
_DRAFT7_MARKERS = ("draft-07", "draft-06", "draft-04", "draft-03")


def escape_pointer(token: str) -> str:
    """One JSON-pointer reference token."""
    return token.replace("~", "~0").replace("/", "~1")


class Context:
    """Everything one compilation shares."""

    def __init__(self, root: Any, options: Options) -> None:
        self.root = root
        self.options = options
        self.pointers: dict[int, str] = {}
        self.bases: dict[int, str] = {}
        self.resources: dict[str, Any] = {}
        self.anchors: dict[str, Any] = {}
        self.active: list[int] = []
        self.dropped: list[tuple[str, str]] = []
        self.ranks: dict[str, int] = {}
        self.draft = options.draft or self._detect_draft(root)
        base = DEFAULT_BASE
        if isinstance(root, dict) and isinstance(root.get("$id"), str):
            base = urljoin(DEFAULT_BASE, root["$id"])
        self._index(root, "", base)
        self.resources.setdefault(urldefrag(base)[0], root)
        self.resources.setdefault(DEFAULT_BASE, root)

    @staticmethod
    def _detect_draft(root: Any) -> str:
        if isinstance(root, dict) and isinstance(root.get("$schema"), str):
            if any(m in root["$schema"] for m in _DRAFT7_MARKERS):
                return "7"
        return "2020-12"

    def _index(self, node: Any, pointer: str, base: str) -> None:
        if isinstance(node, dict):
            ident = node.get("$id")
            has_ref = "$ref" in node and self.draft == "7"
            if isinstance(ident, str) and not has_ref:
                if ident.startswith("#") and self.draft == "7":
                    self.anchors[urljoin(base, ident)] = node
                else:
                    base = urljoin(base, ident)
                    self.resources[urldefrag(base)[0]] = node
            anchor = node.get("$anchor")
            if isinstance(anchor, str):
                self.anchors[urldefrag(base)[0] + "#" + anchor] = node
            self.pointers.setdefault(id(node), pointer)
            self.bases.setdefault(id(node), base)
            for key, value in node.items():
                if key in _DATA_KEYWORDS:
                    continue
                self._index(value, f"{pointer}/{escape_pointer(str(key))}", base)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                self._index(value, f"{pointer}/{i}", base)

    def pointer(self, schema: Any) -> str:
        """The JSON pointer of ``schema`` in the document (``""`` for the root or unknown)."""
        return self.pointers.get(id(schema), "")

    def refuse(self, schema: Any, keyword: str, reason: str) -> None:
        """Refuse ``keyword`` of ``schema`` (or, when lenient, record it as dropped and carry on)."""
        where = self.pointer(schema)
        if self.options.lenient:
            if (where, keyword) not in self.dropped:
                self.dropped.append((where, keyword))
            return
        raise UnsupportedSchema(where, keyword, reason)

    def resolve(self, schema: dict, ref: str) -> Any:
        """The subschema that ``schema``'s ``$ref`` names."""
        if not isinstance(ref, str):
            raise SchemaError("$ref must be a string", self.pointer(schema))
        base = self.bases.get(id(schema), DEFAULT_BASE)
        target = urljoin(base, ref)
        doc, fragment = urldefrag(target)
        if target in self.anchors:
            return self.anchors[target]
        resource = self.resources.get(doc)
        if resource is None:
            raise UnsupportedSchema(self.pointer(schema), "$ref", f"reference {ref!r} leaves the schema document")
        if not fragment:
            return resource
        if not fragment.startswith("/"):
            raise SchemaError(f"unknown anchor in $ref {ref!r}", self.pointer(schema))
        node = resource
        for token in fragment[1:].split("/"):
            token = unquote(token).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise SchemaError(f"$ref {ref!r} does not resolve", self.pointer(schema))
        return node

    def rank(self, name: str) -> int:
        """The canonical position of property ``name`` (assigned on first sight, never changed)."""
        r = self.ranks.get(name)
        if r is None:
            r = self.ranks[name] = len(self.ranks)
        return r

    def walk(self) -> Iterator[tuple[str, Any]]:
        """Every indexed subschema with its pointer."""
        stack = [("", self.root)]
        while stack:
            ptr, node = stack.pop()
            yield ptr, node
            if isinstance(node, dict):
                for k, v in node.items():
                    if k not in _DATA_KEYWORDS:
                        stack.append((f"{ptr}/{escape_pointer(str(k))}", v))
