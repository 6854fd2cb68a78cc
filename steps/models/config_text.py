"""Edits of TensorFlow Serving's ``--model_config_file`` (config.cnf), a text-format
``ModelServerConfig``:

    model_config_list {
      config { name: "half_plus_two" base_path: "/home/tmsadm/export/half_plus_two"
               model_platform: "tensorflow" }
    }

(tensorflow_serving/config/model_server_config.proto;
https://www.tensorflow.org/tfx/serving/serving_config). Text format
(https://protobuf.dev/reference/protobuf/textformat-spec/): ``key: value`` or
``key { ... }`` / ``key: < ... >``, optional ``,`` / ``;`` separators, ``#`` comments.

Edits are splices into the admin's text: their entries, comments and layout stay as they
were; adding a model that is there already returns the text unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""(?P<ws>\s+|\#[^\n]*)
      |(?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
      |(?P<word>[A-Za-z_][\w.]*|[-+]?[\w.]+)
      |(?P<punct>[{}<>:,;\[\]])""",
    re.X,
)
_CLOSE = {"{": "}", "<": ">"}


class ConfigError(ValueError):
    """One sentence about config.cnf and how to fix it."""


@dataclass
class Node:
    key: str
    start: int  # offset of the key
    end: int  # offset after the value (and its separator)
    scalar: str | None = None  # unquoted value of a scalar field
    children: list[Node] = field(default_factory=list)
    body_end: int = 0  # offset of a message's closing bracket
    in_list: bool = False  # an element of `key: [ ... ]`

    def get(self, key: str) -> str | None:
        return next((c.scalar for c in self.children if c.key == key), None)


@dataclass(frozen=True)
class ModelEntry:
    name: str
    base_path: str
    platform: str


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            line = text.count("\n", 0, pos) + 1
            raise ConfigError(f"config.cnf line {line}: cannot read {text[pos : pos + 20]!r}")
        if m.lastgroup != "ws":
            out.append((m.lastgroup or "", m.group(), pos))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.toks, self.i = text, _tokens(text), 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def fail(self, what: str) -> ConfigError:
        tok = self.peek()
        pos = tok[2] if tok else len(self.text)
        line = self.text.count("\n", 0, pos) + 1
        return ConfigError(f"config.cnf line {line}: {what}; fix the file or move it aside")

    def fields(self, closer: str | None) -> tuple[list[Node], int]:
        nodes: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None:
                if closer is not None:
                    raise self.fail(f"'{closer}' missing at the end")
                return nodes, len(self.text)
            if tok[1] == closer:
                self.i += 1
                return nodes, tok[2]
            nodes += self.field()

    def field(self) -> list[Node]:
        kind, key, start = self.toks[self.i]
        if kind != "word":
            raise self.fail(f"a field name expected, found {key!r}")
        self.i += 1
        tok = self.peek()
        if tok and tok[1] == ":":
            self.i += 1
            tok = self.peek()
        if tok is None:
            raise self.fail(f"no value for {key}")
        if tok[1] != "[":
            node = self.value(Node(key, start, start))
            self.separator(node)
            return [node]
        # `config: [ {...}, {...} ]`: one node per element, its span the element's
        self.i += 1
        nodes: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None:
                raise self.fail("']' missing")
            if tok[1] == "]":
                self.i += 1
                break
            node = self.value(Node(key, tok[2], tok[2], in_list=True))
            nxt = self.peek()
            if nxt and nxt[1] == ",":
                self.i += 1
                node.end = nxt[2] + 1
            elif nodes:  # the last element takes the comma before it when it goes
                node.start = nodes[-1].end - 1
            nodes.append(node)
        if nodes:
            self.separator(nodes[-1])
        return nodes

    def value(self, node: Node) -> Node:
        tok = self.peek()
        assert tok is not None
        if tok[1] in _CLOSE:
            self.i += 1
            node.children, node.body_end = self.fields(_CLOSE[tok[1]])
            node.end = node.body_end + 1
        elif tok[0] in ("str", "word"):
            self.i += 1
            node.scalar = _unquote(tok[1]) if tok[0] == "str" else tok[1]
            node.end = tok[2] + len(tok[1])
        else:
            raise self.fail(f"a value for {node.key} expected, found {tok[1]!r}")
        return node

    def separator(self, node: Node) -> None:
        nxt = self.peek()
        if nxt and nxt[1] in (",", ";") and not node.in_list:
            self.i += 1
            node.end = nxt[2] + 1
        elif nxt and nxt[1] in (",", ";"):
            self.i += 1  # after a list's "]": part of no element


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse(text: str) -> list[Node]:
    nodes, _ = _Parser(text).fields(None)
    return nodes


def _model_list(nodes: list[Node]) -> Node | None:
    if any(n.key == "custom_model_config" for n in nodes):
        raise ConfigError(
            "config.cnf uses custom_model_config, which emlsetup does not edit; add the "
            "model to it by hand"
        )
    lists = [n for n in nodes if n.key == "model_config_list"]
    if len(lists) > 1:
        raise ConfigError("config.cnf has model_config_list twice; merge them into one")
    return lists[0] if lists else None


def models(text: str) -> list[ModelEntry]:
    """The models config.cnf lists, in its order."""
    block = _model_list(parse(text))
    if block is None:
        return []
    return [
        ModelEntry(c.get("name") or "", c.get("base_path") or "", c.get("model_platform") or "")
        for c in block.children
        if c.key == "config"
    ]


def entry_text(name: str, base_path: str, indent: str = "  ") -> str:
    return (
        f"{indent}config {{\n"
        f"{indent}  name: {_quote(name)}\n"
        f"{indent}  base_path: {_quote(base_path)}\n"
        f'{indent}  model_platform: "tensorflow"\n'
        f"{indent}}}\n"
    )


def add_model(text: str, name: str, base_path: str) -> str:
    """``text`` with the model listed; the same text when it is listed already.

    A different model under the same name is a sentence, never overwritten."""
    nodes = parse(text)
    block = _model_list(nodes)
    for entry in models(text):
        if entry.name == name:
            if entry.base_path.rstrip("/") == base_path.rstrip("/"):
                return text
            raise ConfigError(
                f"config.cnf already has a model named {name} at {entry.base_path}; "
                f"remove it first (emlsetup model remove {name}) or choose another name"
            )
    if block is None:
        sep = "" if not text or text.endswith("\n") else "\n"
        return f"{text}{sep}model_config_list {{\n{entry_text(name, base_path)}}}\n"
    close = block.body_end
    line_start = text.rfind("\n", 0, close) + 1
    before = text[line_start:close]
    if before.strip():  # "... }" on one line: the entry goes on lines of its own
        return text[:close] + "\n" + entry_text(name, base_path) + text[close:]
    return text[:line_start] + entry_text(name, base_path) + text[line_start:]


def remove_model(text: str, name: str) -> str:
    """``text`` without the model's config entry; the same text when it is not there."""
    block = _model_list(parse(text))
    if block is None:
        return text
    hits = [c for c in block.children if c.key == "config" and c.get("name") == name]
    for node in reversed(hits):
        start, end = node.start, node.end
        line_start = text.rfind("\n", 0, start) + 1
        if not text[line_start:start].strip():
            start = line_start  # the entry's indentation
            rest = re.match(r"[ \t]*\n", text[end:])
            if rest:
                end += rest.end()  # and its line end
        text = text[:start] + text[end:]
    return text
