"""A minimal reader of the protocol-buffer wire format: enough to read a SavedModel's
signatures (steps/models/savedmodel.py) without TensorFlow or generated code.

Wire format: https://protobuf.dev/programming-guides/encoding/ (varint keys
``field << 3 | wire_type``; 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
"""

from __future__ import annotations

from collections.abc import Iterator

Field = tuple[int, int, int | bytes]  # (field number, wire type, value)


class WireError(ValueError):
    """The bytes are not a protocol buffer."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WireError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint too long")


def fields(data: bytes) -> Iterator[Field]:
    """Every field of one message, in order (groups are not used by the messages we read)."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        value: int | bytes
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = int.from_bytes(data[pos : pos + 8], "little"), pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise WireError("truncated field")
            value, pos = data[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = int.from_bytes(data[pos : pos + 4], "little"), pos + 4
        else:
            raise WireError(f"unsupported wire type {wire}")
        if pos > len(data):
            raise WireError("truncated field")
        yield number, wire, value


def messages(data: bytes, number: int) -> list[bytes]:
    """The embedded messages (or strings) of a repeated length-delimited field."""
    return [v for n, w, v in fields(data) if n == number and w == 2 and isinstance(v, bytes)]


def scalar(data: bytes, number: int, default: int = 0) -> int:
    """The last varint value of ``number`` (proto3: the last one wins)."""
    found = [v for n, w, v in fields(data) if n == number and w == 0 and isinstance(v, int)]
    return found[-1] if found else default


def text(data: bytes, number: int) -> str:
    found = messages(data, number)
    return found[-1].decode("utf-8") if found else ""


def string_map(data: bytes, number: int) -> dict[str, bytes]:
    """A ``map<string, Message>`` field: entries are messages {1: key, 2: value}."""
    out: dict[str, bytes] = {}
    for entry in messages(data, number):
        out[text(entry, 1)] = (messages(entry, 2) or [b""])[-1]
    return out


def signed64(value: int) -> int:
    """An int64 varint as a Python int (-1 is ten bytes of 0xff...)."""
    return value - (1 << 64) if value >= 1 << 63 else value
