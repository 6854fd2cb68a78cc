"""HANA type codes, CESU-8, and the field encodings of result sets and parameters.

References: SAP/go-hdb ``driver/internal/protocol/encoding/field.go``,
``typecode.go``, ``result.go`` and ``parameter.go``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class TypeCode(IntEnum):
    """Wire type codes."""

    NULL = 0
    TINYINT = 1
    SMALLINT = 2
    INTEGER = 3
    BIGINT = 4
    DECIMAL = 5
    REAL = 6
    DOUBLE = 7
    CHAR = 8
    VARCHAR = 9
    NCHAR = 10
    NVARCHAR = 11
    BINARY = 12
    VARBINARY = 13
    DATE = 14
    TIME = 15
    TIMESTAMP = 16
    BLOB = 27  # stored by the test server, never sent in a result set (no LOB locators)
    BOOLEAN = 28
    STRING = 29
    NSTRING = 30
    BSTRING = 33
    SMALLDECIMAL = 47
    TEXT = 51
    SHORTTEXT = 52
    ALPHANUM = 55
    LONGDATE = 61
    SECONDDATE = 62
    DAYDATE = 63
    SECONDTIME = 64


STRING_TYPES = {
    TypeCode.CHAR,
    TypeCode.VARCHAR,
    TypeCode.NCHAR,
    TypeCode.NVARCHAR,
    TypeCode.STRING,
    TypeCode.NSTRING,
    TypeCode.SHORTTEXT,
    TypeCode.ALPHANUM,
}
BINARY_TYPES = {TypeCode.BINARY, TypeCode.VARBINARY, TypeCode.BSTRING}
FIXED_SIZES: dict[int, str] = {
    TypeCode.TINYINT: "<B",
    TypeCode.SMALLINT: "<h",
    TypeCode.INTEGER: "<i",
    TypeCode.BIGINT: "<q",
    TypeCode.REAL: "<f",
    TypeCode.DOUBLE: "<d",
    TypeCode.BOOLEAN: "<B",
    TypeCode.LONGDATE: "<q",
    TypeCode.SECONDDATE: "<q",
    TypeCode.DAYDATE: "<i",
    TypeCode.SECONDTIME: "<i",
}
NULLABLE = 0x02


# --- CESU-8 -------------------------------------------------------------------------------


def cesu8_encode(text: str) -> bytes:
    """Encode as CESU-8: UTF-8, with characters outside the BMP as two 3-byte surrogates."""
    if all(ord(c) <= 0xFFFF for c in text):
        return text.encode("utf-8", "surrogatepass")
    utf16 = text.encode("utf-16-le")
    units = struct.unpack(f"<{len(utf16) // 2}H", utf16)
    return "".join(chr(u) for u in units).encode("utf-8", "surrogatepass")


def cesu8_decode(raw: bytes) -> str:
    """Decode CESU-8 (and plain UTF-8): surrogate pairs are joined into one character."""
    text = raw.decode("utf-8", "surrogatepass")
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


# --- length-prefixed values ---------------------------------------------------------------


def encode_length_prefixed(raw: bytes | None) -> bytes:
    """VARCHAR/NVARCHAR/VARBINARY value: 1-byte length, F6 + i16, F7 + i32, FF = NULL."""
    if raw is None:
        return b"\xff"
    if len(raw) <= 245:
        return bytes([len(raw)]) + raw
    if len(raw) <= 0x7FFF:
        return b"\xf6" + struct.pack("<h", len(raw)) + raw
    return b"\xf7" + struct.pack("<i", len(raw)) + raw


def decode_length_prefixed(data: bytes, pos: int) -> tuple[bytes | None, int]:
    """Inverse of :func:`encode_length_prefixed`; returns (value, new position)."""
    marker = data[pos]
    pos += 1
    if marker == 0xFF:
        return None, pos
    if marker == 0xF6:
        (length,) = struct.unpack_from("<h", data, pos)
        pos += 2
    elif marker == 0xF7:
        (length,) = struct.unpack_from("<i", data, pos)
        pos += 4
    else:
        length = marker
    return data[pos : pos + length], pos + length


# --- result sets --------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A result-set column: name, wire type, and declared length."""

    name: str
    type_code: TypeCode = TypeCode.NVARCHAR
    length: int = 5000
    table: str = ""
    schema: str = ""


def _names_area(names: Sequence[str]) -> tuple[dict[str, int], bytes]:
    offsets: dict[str, int] = {}
    area = bytearray()
    for name in names:
        if name in offsets:
            continue
        offsets[name] = len(area)
        raw = cesu8_encode(name)
        area += bytes([len(raw)]) + raw
    return offsets, bytes(area)


def encode_resultset_metadata(columns: Sequence[Column]) -> bytes:
    """RESULTSETMETADATA data: 24 bytes a column, then the 1-byte-length names."""
    all_names = [n for c in columns for n in (c.table, c.schema, c.name)]
    offsets, area = _names_area(all_names)
    out = bytearray()
    for c in columns:
        fraction = 0
        out += struct.pack(
            "<BBhhhIIII",
            NULLABLE,
            c.type_code,
            fraction,
            c.length,
            0,
            offsets[c.table] if c.table else 0xFFFFFFFF,
            offsets[c.schema] if c.schema else 0xFFFFFFFF,
            offsets[c.name],
            offsets[c.name],
        )
    return bytes(out) + area


def encode_value(type_code: TypeCode, value: Any) -> bytes:
    """One result-set field."""
    if type_code in STRING_TYPES:
        return encode_length_prefixed(None if value is None else cesu8_encode(str(value)))
    if type_code in BINARY_TYPES:
        return encode_length_prefixed(None if value is None else bytes(value))
    if type_code in (TypeCode.REAL, TypeCode.DOUBLE):
        real = FIXED_SIZES[type_code]
        if value is None:
            return b"\xff" * struct.calcsize(real)
        return struct.pack(real, float(value))
    if type_code == TypeCode.BOOLEAN:
        return bytes([0 if value is None else 2 if value else 1])
    integer = FIXED_SIZES.get(type_code)
    if integer is None:
        raise ValueError(f"unsupported result type {type_code!r}")
    if value is None:  # the indicator byte alone
        return b"\x00"
    return b"\x01" + struct.pack(integer, int(value))


def encode_rows(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> bytes:
    """RESULTSET data for ``rows`` (argCount = len(rows))."""
    out = bytearray()
    for row in rows:
        for col, value in zip(columns, row, strict=True):
            out += encode_value(col.type_code, value)
    return bytes(out)


# --- parameters ---------------------------------------------------------------------------


def encode_parameter_metadata(count: int, type_code: TypeCode = TypeCode.NVARCHAR) -> bytes:
    """PARAMETERMETADATA for ``count`` IN parameters (16 bytes each, no names)."""
    mode_in = 1
    return b"".join(
        struct.pack("<BBBBIhhi", NULLABLE, type_code, mode_in, 0, 0xFFFFFFFF, 5000, 0, 0)
        for _ in range(count)
    )


def decode_parameters(data: bytes, count: int, rows: int = 1) -> list[tuple[Any, ...]]:
    """Decode a PARAMETERS part: each value is a type byte (| 0x80 = NULL) and its data."""
    pos = 0
    out: list[tuple[Any, ...]] = []
    for _ in range(max(rows, 1)):
        values: list[Any] = []
        for _ in range(count):
            tc = data[pos]
            pos += 1
            if tc & 0x80 or tc == TypeCode.NULL:
                values.append(None)
                continue
            if tc in STRING_TYPES:
                raw, pos = decode_length_prefixed(data, pos)
                values.append(None if raw is None else cesu8_decode(raw))
            elif tc in BINARY_TYPES:
                raw, pos = decode_length_prefixed(data, pos)
                values.append(raw)
            elif tc in (TypeCode.DECIMAL, TypeCode.SMALLDECIMAL):
                values.append(data[pos : pos + 16])
                pos += 16
            elif tc in FIXED_SIZES:
                fmt = FIXED_SIZES[tc]
                (value,) = struct.unpack_from(fmt, data, pos)
                pos += struct.calcsize(fmt)
                values.append(bool(value) if tc == TypeCode.BOOLEAN else value)
            else:
                raise ValueError(f"unsupported parameter type code {tc}")
        out.append(tuple(values))
    return out
