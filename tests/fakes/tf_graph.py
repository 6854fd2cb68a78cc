"""One SavedModel version as the TF Serving stand-in serves it: its serve graph evaluated.

The file is parsed by protobuf with the product's message declarations (steps/models/
tf_proto.py, TensorFlow's field numbers), but nothing of the product's reading of them:
the serve graph and its signatures are picked here, as TF Serving's loader does
(tensorflow/cc/saved_model/loader.cc: the meta graph whose tags are the requested set).
Evaluation follows TensorFlow's graph semantics (tensorflow/core/framework/
graph.proto, node_def.proto: an input "node:i" is output i of node, "^node" a control
input; function.proto: inside a FunctionDef an input is an argument name or
"node:output_arg:i", its results are ``ret``), with StatefulPartitionedCall /
PartitionedCall calling a function of the graph's library (TF2 models).

Variables come from the variables/ checkpoint, a "tensor bundle"
(tensorflow/core/util/tensor_bundle/tensor_bundle.h): variables.index is a LevelDB-format
table (table_format.md: blocks of prefix-compressed entries, a restart array, a 48-byte
footer) mapping a key to a BundleEntryProto (dtype, shape, shard, offset, size) in
variables.data-NNNNN-of-MMMMM; a string tensor there is each element's varint length, a
4-byte checksum, then the bytes (tensor_bundle.cc WriteStringTensor). A TF1 variable
(VariableV2, or VarHandleOp of a v1 Saver) is saved under its name; a TF2 variable under
an object path, which the graph's restore function names: its RestoreV2 reads
tensor_names[i] and AssignVariableOp writes it to the variable handle passed as the
function's argument (saver_def.restore_op_name is the node that calls it).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from tf_ops import DT_RESOURCE, DT_STRING, Val, run
from tf_tensors import read

from steps.models import tf_proto as tp  # the message declarations only


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        b = data[pos]
        pos += 1
        out |= (b & 0x7F) << shift
        if not b & 0x80:
            return out, pos
        shift += 7


def _block_entries(block: bytes) -> list[tuple[bytes, bytes]]:
    """A LevelDB table block: prefix-compressed entries, then the restart array."""
    restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * restarts
    out, pos, key = [], 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        size, pos = _varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        out.append((key, block[pos : pos + size]))
        pos += size
    return out


_PACKED = {1: "f", 2: "d", 3: "i", 9: "q", 10: "?"}


def read_checkpoint(variables: Path) -> dict[str, Val]:
    """{key: value} of variables/variables.{index,data-*}."""
    index = (variables / "variables.index").read_bytes()
    footer = index[-48:]
    _, p = _varint(footer, 0)
    _, p = _varint(footer, p)  # the metaindex handle
    idx_off, p = _varint(footer, p)
    idx_size, _ = _varint(footer, p)
    values: dict[str, Val] = {}
    shards: dict[int, bytes] = {}
    for _, handle in _block_entries(index[idx_off : idx_off + idx_size]):
        off, q = _varint(handle, 0)
        size, _ = _varint(handle, q)
        for key, raw in _block_entries(index[off : off + size]):
            if not key:  # the header entry
                continue
            entry = tp.parse("BundleEntryProto", raw)
            if entry.shard_id not in shards:
                path = next(variables.glob(f"variables.data-{entry.shard_id:05d}-of-*"))
                shards[entry.shard_id] = path.read_bytes()
            data = shards[entry.shard_id][entry.offset : entry.offset + entry.size]
            shape = tuple(d.size for d in entry.shape.dim)
            values[key.decode()] = Val(entry.dtype, shape, _decode(entry.dtype, shape, data))
    return values


def _decode(dtype: int, shape: tuple[int, ...], data: bytes) -> list[Any]:
    if dtype == DT_STRING:
        n, pos, lengths = 1, 0, []
        for size in shape:
            n *= size
        for _ in range(n):
            length, pos = _varint(data, pos)
            lengths.append(length)
        pos += 4  # the checksum of the lengths
        out = []
        for length in lengths:
            out.append(data[pos : pos + length])
            pos += length
        return out
    if dtype not in _PACKED:
        return []  # a dtype no kernel here reads (the TF2 object graph's bytes, ...)
    code = _PACKED[dtype]
    return list(struct.unpack(f"<{len(data) // struct.calcsize(code)}{code}", data))


def _attrs(node: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.attr.items():
        kind = value.WhichOneof("value")
        if kind == "list":
            out[key] = list(value.list.i) or list(value.list.s)
        elif kind == "func":
            out[key] = value.func.name
        elif kind is not None:
            out[key] = getattr(value, kind)
    return out


class Graph:
    """The serve graph of one SavedModel version."""

    def __init__(self, folder: Path) -> None:
        saved = tp.parse("SavedModel", (folder / "saved_model.pb").read_bytes())
        meta = next(g for g in saved.meta_graphs if list(g.meta_info_def.tags) == ["serve"])
        self.meta = meta
        self.signatures = set(meta.signature_def)
        self.signature_map = tp.message_class("SignatureDefMap")()
        for name, sig in meta.signature_def.items():
            self.signature_map.signature_def[name].CopyFrom(sig)
        self.nodes = {n.name: n for n in meta.graph_def.node}
        self.functions = {f.signature.name: f for f in meta.graph_def.library.function}
        # TF's loader restores variables only when variables.index is there; a SavedModel
        # without (a graph with no variables: SavedModelBuilder leaves variables/ empty)
        # loads all the same (tensorflow/cc/saved_model/loader.cc, RunRestore: "The
        # specified SavedModel has no variables; no checkpoints were restored.").
        has_index = (folder / "variables" / "variables.index").is_file()
        self.checkpoint = read_checkpoint(folder / "variables") if has_index else {}
        self.keys = self._restore_keys()

    def tensor_names(self, signature: str, outputs: bool) -> dict[str, str]:
        """{alias: graph tensor name} of a signature's inputs or outputs."""
        sig = self.meta.signature_def[signature]
        infos = sig.outputs if outputs else sig.inputs
        return {alias: info.name for alias, info in infos.items()}

    def _restore_keys(self) -> dict[str, str]:
        """{variable handle node: checkpoint key}, from the TF2 restore function."""
        node = self.nodes.get(self.meta.saver_def.restore_op_name)
        if node is None or node.op not in ("StatefulPartitionedCall", "PartitionedCall"):
            return {}
        fn = self.functions[node.attr["f"].func.name]
        args = [a.name for a in fn.signature.input_arg]
        body = {n.name: n for n in fn.node_def}
        names = next((n for n in fn.node_def if n.op == "RestoreV2"), None)
        if names is None:
            return {}
        const = body[names.input[1].split(":")[0]]
        keys = [k.decode() for k in read(const.attr["value"].tensor)[2]]
        out = {}
        for n in fn.node_def:
            if n.op != "AssignVariableOp":
                continue
            source = n.input[1]
            while not source.startswith(f"{names.name}:"):
                source = body[source.split(":")[0]].input[0]
            handle = node.input[args.index(n.input[0])].split(":")[0]
            out[handle] = keys[int(source.rsplit(":", 1)[1])]
        return out

    def run(self, feeds: dict[str, Val], name: str) -> Val:
        """The value of graph tensor ``name`` ("node:0") with ``feeds`` ({node: value})."""
        node, _, index = name.partition(":")
        return self._node(feeds, {}, node)[int(index or 0)]

    def _node(self, feeds: dict[str, Val], memo: dict[str, list[Val]], name: str) -> list[Val]:
        if name in feeds:
            return [feeds[name]]
        if name not in memo:
            node = self.nodes[name]
            inputs = [
                self.run(feeds, i) if ":" in i else self._node(feeds, memo, i)[0]
                for i in node.input
                if not i.startswith("^")
            ]
            memo[name] = self._op(node, inputs)
        return memo[name]

    def _op(self, node: Any, inputs: list[Val]) -> list[Val]:
        attrs = _attrs(node)
        if node.op == "Placeholder":
            raise ValueError(f"You must feed a value for placeholder tensor '{node.name}'")
        if node.op == "Const":
            dtype, shape, values = read(node.attr["value"].tensor)
            return [Val(dtype, shape, values)]
        if node.op in ("VariableV2", "Variable"):
            return [self.checkpoint[node.name]]
        if node.op == "VarHandleOp":
            shared = attrs.get("shared_name", b"").decode() or node.name
            key = self.keys.get(node.name, shared)
            return [Val(DT_RESOURCE, (), [key])]
        if node.op == "ReadVariableOp":
            return [self.checkpoint[inputs[0].data[0]]]
        if node.op in ("StatefulPartitionedCall", "PartitionedCall"):
            return self.call(attrs["f"], inputs)
        if node.op == "NoOp":
            return []
        return run(node.op, inputs, attrs)

    def call(self, function: str, args: list[Val]) -> list[Val]:
        fn = self.functions[function]
        env: dict[str, list[Val]] = {
            a.name: [v] for a, v in zip(fn.signature.input_arg, args, strict=True)
        }
        body = {n.name: n for n in fn.node_def}

        def value(ref: str) -> Val:
            name, _, rest = ref.partition(":")
            if name not in env:
                node = body[name]
                ins = [value(i) for i in node.input if not i.startswith("^")]
                env[name] = self._op(node, ins)
            return env[name][int(rest.rsplit(":", 1)[1]) if rest else 0]

        return [value(fn.ret[a.name]) for a in fn.signature.output_arg]
