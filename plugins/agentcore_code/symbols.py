"""Outlines: the functions, classes and other definitions in a piece of code, nested as written.

tree-sitter parses code that has errors too, so an outline of a half-written file still shows what is
there. Methods sit under their class (Go methods under their receiver's type when it is in the same
code; Rust methods under their ``impl``/``trait``). A symbol's lines include its decorators (Python,
TypeScript) or attributes (Rust), which are listed in ``decorators``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from agentcore_code.languages import parse, resolve_language

if TYPE_CHECKING:
    import tree_sitter

SymbolKind = Literal[
    "function", "method", "class", "interface", "struct", "enum", "trait", "impl", "module", "type",
    "table", "view",
]

#: Kinds whose function children are methods.
_CONTAINERS = {"class", "interface", "struct", "trait", "impl"}


class Symbol(BaseModel):
    """One definition in an outline, with the definitions nested in it."""

    kind: SymbolKind
    name: str
    start_line: int = Field(ge=1, description="1-based first line, decorators included")
    end_line: int = Field(ge=1, description="1-based last line")
    signature: str | None = Field(
        default=None, description="the header up to the body, on one line, e.g. 'def f(x: int) -> str:'"
    )
    is_async: bool = False
    decorators: list[str] = Field(default_factory=list, description="decorators/attributes, without '@'/'#[]'")
    children: list[Symbol] = Field(default_factory=list)


def outline(code: str, language: str) -> list[Symbol]:
    """The definitions in ``code`` (``language`` is a canonical name or an alias), nested as written.

    Raises :class:`~agentcore_code.languages.UnsupportedLanguageError` for an unknown language and
    :class:`~agentcore_code.languages.GrammarNotInstalledError` when its grammar wheel is missing.
    """
    name = resolve_language(language)
    root = parse(code, name).root_node
    classify = _CLASSIFIERS[name]
    top: list[Symbol] = []
    # Iterative walk (deeply nested expressions would overflow recursion): (node, where its symbols go,
    # the kind of the enclosing symbol).
    stack: list[tuple[tree_sitter.Node, list[Symbol], str | None]] = [(root, top, None)]
    while stack:
        node, into, parent_kind = stack.pop()
        pending = []
        for child in node.named_children:
            found = classify(child, parent_kind)
            if found is None:
                pending.append((child, into, parent_kind))
                continue
            symbol, body = found
            into.append(symbol)
            if body is not None:
                pending.append((body, symbol.children, symbol.kind))
        stack.extend(reversed(pending))
    if name == "go":
        top = _attach_go_methods(top)
    # Symbols are found at different depths (a class inside `export`), so put each list in source order.
    _sort(top)
    return top


def _sort(symbols: list[Symbol]) -> None:
    symbols.sort(key=lambda s: (s.start_line, s.end_line))
    for symbol in symbols:
        _sort(symbol.children)


# --- per-language classification ------------------------------------------------------------------
# Each classifier looks at one node and returns (symbol, node to search for nested symbols) or None.

Found = tuple[Symbol, "tree_sitter.Node | None"]


def _python(node: tree_sitter.Node, parent_kind: str | None) -> Found | None:
    span = node
    decorators: list[str] = []
    if node.type == "decorated_definition":
        decorators = [_text(d).lstrip("@").strip() for d in node.named_children if d.type == "decorator"]
        definition = node.child_by_field_name("definition")
        if definition is None:
            return None
        node = definition
    if node.type == "class_definition":
        kind = "class"
    elif node.type == "function_definition":
        kind = "method" if parent_kind == "class" else "function"
    else:
        return None
    symbol = _symbol(node, kind, span=span, decorators=decorators)
    symbol.is_async = any(c.type == "async" for c in node.children)
    return symbol, node.child_by_field_name("body")


_JS_KINDS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "function_signature": "function",
    "class_declaration": "class",
    "abstract_class_declaration": "class",
    "class": "class",
    "interface_declaration": "interface",
    "enum_declaration": "enum",
    "type_alias_declaration": "type",
    "internal_module": "module",
    "module": "module",
}
_JS_METHODS = {"method_definition", "method_signature", "abstract_method_signature"}
_JS_FUNCTION_VALUES = {"arrow_function", "function_expression", "function", "generator_function"}


def _javascript(node: tree_sitter.Node, parent_kind: str | None) -> Found | None:
    kind = _JS_KINDS.get(node.type)
    if kind == "class" and node.child_by_field_name("name") is None:
        return None  # an anonymous class expression: its methods go to the enclosing symbol
    if kind == "type":
        return _symbol(node, kind), None
    if kind is not None:
        # `@dec export class A` / `export class A`: the decorators and `export` belong to the symbol's lines
        span = node.parent if node.parent is not None and node.parent.type == "export_statement" else node
        symbol = _symbol(node, kind, span=span, decorators=_js_decorators(node))
        symbol.is_async = any(c.type == "async" for c in node.children)
        return symbol, node.child_by_field_name("body")
    if node.type in _JS_METHODS:
        symbol = _symbol(node, "method")
        symbol.is_async = any(c.type == "async" for c in node.children)
        return symbol, node.child_by_field_name("body")
    if node.type in ("variable_declarator", "field_definition", "public_field_definition"):
        # const f = () => {...}; class fields holding arrow functions (handle = (e) => {...})
        value = node.child_by_field_name("value")
        name = node.child_by_field_name("name") or node.child_by_field_name("property")
        if value is None or name is None:
            return None
        if value.type in _JS_FUNCTION_VALUES:
            kind = "method" if node.type != "variable_declarator" else "function"
        elif value.type == "class":
            kind = "class"
        else:
            return None
        span = node
        if node.type == "variable_declarator" and node.parent is not None and node.parent.named_child_count == 1:
            span = node.parent  # the whole `const f = ...;` when it declares only f
        symbol = _symbol(node, kind, name=_text(name), span=span, body=value.child_by_field_name("body"))
        symbol.signature = _signature(span, value.child_by_field_name("body"))  # with `const`
        symbol.is_async = any(c.type == "async" for c in value.children)
        return symbol, value.child_by_field_name("body")
    return None


def _js_decorators(node: tree_sitter.Node) -> list[str]:
    found = [c for c in node.children if c.type == "decorator"]
    if node.parent is not None and node.parent.type == "export_statement":
        found = [c for c in node.parent.children if c.type == "decorator"] + found
    return [_text(d).lstrip("@").strip() for d in found]


def _go(node: tree_sitter.Node, parent_kind: str | None) -> Found | None:
    if node.type == "function_declaration":
        return _symbol(node, "function"), node.child_by_field_name("body")
    if node.type == "method_declaration":
        return _symbol(node, "method"), node.child_by_field_name("body")
    if node.type == "method_elem":
        return _symbol(node, "method"), None
    if node.type == "type_spec":
        type_node = node.child_by_field_name("type")
        kind = {"struct_type": "struct", "interface_type": "interface"}.get(type_node.type if type_node else "", "type")
        span = node.parent if node.parent is not None and node.parent.named_child_count == 1 else node
        symbol = _symbol(node, kind, span=span)
        symbol.signature = re.sub(r"\s+", " ", _text(span).split("{", 1)[0].split("\n", 1)[0]).strip()
        return symbol, (type_node if kind == "interface" else None)
    return None


def _attach_go_methods(top: list[Symbol]) -> list[Symbol]:
    """Move each method under its receiver's type when that type is defined in the same code."""
    types = {s.name: s for s in top if s.kind in ("struct", "interface", "type")}
    out = []
    for symbol in top:
        receiver = _go_receiver(symbol.signature or "") if symbol.kind == "method" else None
        if receiver in types:
            types[receiver].children.append(symbol)
        else:
            out.append(symbol)
    return out


def _go_receiver(signature: str) -> str | None:
    m = re.match(r"func\s*\(\s*(?:\w+\s+)?\*?\s*(\w+)", signature)
    return m.group(1) if m else None


_RUST_KINDS = {
    "struct_item": "struct",
    "enum_item": "enum",
    "trait_item": "trait",
    "mod_item": "module",
    "union_item": "struct",
    "type_item": "type",
}


def _rust(node: tree_sitter.Node, parent_kind: str | None) -> Found | None:
    if node.type in ("function_item", "function_signature_item"):
        kind = "method" if parent_kind in ("impl", "trait") else "function"
        symbol = _symbol(node, kind, decorators=_rust_attributes(node), span=_rust_span(node))
        symbol.is_async = _rust_is_async(node)
        return symbol, node.child_by_field_name("body")
    if node.type == "impl_item":
        trait, type_ = node.child_by_field_name("trait"), node.child_by_field_name("type")
        name = (f"{_text(trait)} for " if trait is not None else "") + (_text(type_) if type_ is not None else "?")
        symbol = _symbol(node, "impl", name=name, decorators=_rust_attributes(node), span=_rust_span(node))
        return symbol, node.child_by_field_name("body")
    kind = _RUST_KINDS.get(node.type)
    if kind is None:
        return None
    symbol = _symbol(node, kind, decorators=_rust_attributes(node), span=_rust_span(node))
    return symbol, (node.child_by_field_name("body") if kind in ("trait", "module") else None)


def _rust_is_async(node: tree_sitter.Node) -> bool:
    return any(c.type == "function_modifiers" and "async" in _text(c).split() for c in node.children)


def _rust_attribute_nodes(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    attrs = []
    sibling = node.prev_named_sibling
    while sibling is not None and sibling.type == "attribute_item":
        attrs.append(sibling)
        sibling = sibling.prev_named_sibling
    return list(reversed(attrs))


def _rust_attributes(node: tree_sitter.Node) -> list[str]:
    return [_text(a).removeprefix("#[").removesuffix("]").strip() for a in _rust_attribute_nodes(node)]


def _rust_span(node: tree_sitter.Node) -> tuple[int, int]:
    attrs = _rust_attribute_nodes(node)
    return ((attrs[0] if attrs else node).start_point.row, node.end_point.row)


def _bash(node: tree_sitter.Node, parent_kind: str | None) -> Found | None:
    if node.type == "function_definition":
        return _symbol(node, "function"), node.child_by_field_name("body")
    return None


_SQL_KINDS = {"create_table": "table", "create_view": "view", "create_materialized_view": "view",
              "create_function": "function"}


def _sql(node: tree_sitter.Node, parent_kind: str | None) -> Found | None:
    kind = _SQL_KINDS.get(node.type)
    if kind is None:
        return None
    ref = next((c for c in node.named_children if c.type == "object_reference"), None)
    if ref is None:
        return None
    symbol = _symbol(node, kind, name=_text(ref))
    symbol.signature = _text(node).strip().split("\n", 1)[0]  # a whole CREATE statement is too long
    return symbol, None


_CLASSIFIERS: dict[str, Callable[[tree_sitter.Node, str | None], Found | None]] = {
    "python": _python,
    "javascript": _javascript,
    "typescript": _javascript,
    "tsx": _javascript,
    "go": _go,
    "rust": _rust,
    "bash": _bash,
    "sql": _sql,
}


# --- helpers -------------------------------------------------------------------------------------------


def _symbol(
    node: tree_sitter.Node,
    kind: str,
    *,
    name: str | None = None,
    span: tree_sitter.Node | tuple[int, int] | None = None,
    body: tree_sitter.Node | None = None,
    decorators: list[str] | None = None,
) -> Symbol:
    if name is None:
        name_node = node.child_by_field_name("name")
        name = _text(name_node) if name_node is not None else "(anonymous)"
    if isinstance(span, tuple):
        start_row, end_row = span
    else:
        span = span or node
        start_row, end_row = span.start_point.row, span.end_point.row
    return Symbol(
        kind=kind,  # type: ignore[arg-type]
        name=name,
        start_line=start_row + 1,
        end_line=end_row + 1,
        signature=_signature(node, body),
        decorators=decorators or [],
    )


def _signature(node: tree_sitter.Node, body: tree_sitter.Node | None) -> str:
    """The header of a definition: its text up to the body (or the whole node), on one line."""
    body = body if body is not None else node.child_by_field_name("body")
    raw = node.text or b""
    if body is not None and body.start_byte > node.start_byte:
        raw = raw[: body.start_byte - node.start_byte]
    text = raw.decode("utf-8", errors="replace").strip()
    text = re.sub(r"\s*\n\s*", " ", text)  # a multi-line parameter list becomes one line
    text = re.sub(r"([(\[])\s+", r"\1", text)
    text = re.sub(r",?\s+([)\]])", r"\1", text)
    return text


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")
