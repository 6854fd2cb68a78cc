"""HANA SQL Command Network Protocol framing: message, segment and part headers.

Every request and reply is one message: a 32-byte message header, then (here always) one
segment with a 24-byte header, then parts with 16-byte headers whose data is padded to a
multiple of 8 bytes. All integers are little-endian. See SAP/go-hdb
``driver/internal/protocol/headers.go`` for the reference layout.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field
from enum import IntEnum

MESSAGE_HEADER = struct.Struct("<qiIIhb9x")
SEGMENT_HEADER_REQUEST = struct.Struct("<iihhbbbb8x")
SEGMENT_HEADER_REPLY = struct.Struct("<iihhbbh8x")
PART_HEADER = struct.Struct("<bbhiii")

#: The client's 14-byte initialisation request and the server's 8-byte answer.
INIT_REQUEST_SIZE = 14
INIT_REPLY = bytes([0x04, 0x14, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00])

#: Packet size we announce in replies (varPartSize); hdbcli does not insist on it.
MAX_PACKET = 1 << 20


class MessageType(IntEnum):
    """Request message types (segment header of a request)."""

    EXECUTEDIRECT = 2
    PREPARE = 3
    EXECUTE = 13
    AUTHENTICATE = 65
    CONNECT = 66
    COMMIT = 67
    ROLLBACK = 68
    CLOSERESULTSET = 69
    DROPSTATEMENTID = 70
    FETCHNEXT = 71
    DISCONNECT = 77
    DBCONNECTINFO = 82


class SegmentKind(IntEnum):
    """Segment kinds."""

    REQUEST = 1
    REPLY = 2
    ERROR = 5


class FunctionCode(IntEnum):
    """What a reply segment answers (tells the client how to read it)."""

    NIL = 0
    DDL = 1
    INSERT = 2
    UPDATE = 3
    DELETE = 4
    SELECT = 5
    DBPROCEDURECALL = 8
    DBPROCEDURECALLWITHRESULT = 9
    FETCH = 10
    COMMIT = 11
    ROLLBACK = 12
    CONNECT = 14
    DISCONNECT = 18
    CLOSECURSOR = 19


class PartKind(IntEnum):
    """Part kinds used by this server."""

    COMMAND = 3
    RESULTSET = 5
    ERROR = 6
    STATEMENTID = 10
    TRANSACTIONID = 11
    ROWSAFFECTED = 12
    RESULTSETID = 13
    TOPOLOGYINFORMATION = 15
    CLIENTCONTEXT = 29
    PARAMETERS = 32
    AUTHENTICATION = 33
    SESSIONCONTEXT = 34
    CLIENTID = 35
    STATEMENTCONTEXT = 39
    OUTPUTPARAMETERS = 41
    CONNECTOPTIONS = 42
    FETCHSIZE = 45
    PARAMETERMETADATA = 47
    RESULTSETMETADATA = 48
    CLIENTINFO = 57
    TRANSACTIONFLAGS = 64
    DBCONNECTINFO = 67


class OptionType(IntEnum):
    """Value types inside option parts (CONNECTOPTIONS, DBCONNECTINFO, ...)."""

    INT = 3
    BIGINT = 4
    DOUBLE = 7
    BOOLEAN = 28
    STRING = 29
    BSTRING = 33


#: Result-set part attributes: last packet, row not found (empty), result set closed.
ATTR_LAST_PACKET = 0x01
ATTR_ROW_NOT_FOUND = 0x08
ATTR_RESULTSET_CLOSED = 0x10


@dataclass
class Part:
    """One part: its kind, argument count, attributes and raw (unpadded) data."""

    kind: int
    data: bytes = b""
    arg_count: int = 1
    attributes: int = 0

    def encode(self) -> bytes:
        """Header plus data padded to 8 bytes."""
        small = self.arg_count if self.arg_count < 0x7FFF else -1
        big = 0 if small >= 0 else self.arg_count
        header = PART_HEADER.pack(
            self.kind, self.attributes, small, big, len(self.data), len(self.data)
        )
        return header + self.data + b"\0" * (-len(self.data) % 8)


@dataclass
class Request:
    """A decoded client request (one segment)."""

    session_id: int
    packet_count: int
    message_type: int
    commit: bool
    parts: list[Part] = field(default_factory=list)

    def part(self, kind: int) -> Part | None:
        """The first part of ``kind``, if any."""
        return next((p for p in self.parts if p.kind == kind), None)


def recv_exact(sock: socket.socket, size: int) -> bytes | None:
    """Exactly ``size`` bytes, or None when the peer closed the connection first."""
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_request(sock: socket.socket) -> Request | None:
    """Read and decode one request message; None on end of stream."""
    head = recv_exact(sock, MESSAGE_HEADER.size)
    if head is None:
        return None
    session_id, packet_count, var_len, _size, n_segments, _opts = MESSAGE_HEADER.unpack(head)
    body = recv_exact(sock, var_len) if var_len else b""
    if body is None:
        return None
    return decode_request(session_id, packet_count, n_segments, body)


def decode_request(session_id: int, packet_count: int, n_segments: int, body: bytes) -> Request:
    """Decode the segment(s) of a request body; only the first segment is kept."""
    if n_segments < 1 or len(body) < SEGMENT_HEADER_REQUEST.size:
        return Request(session_id, packet_count, 0, False)
    seg_len, _off, n_parts, _no, _kind, msg_type, commit, _opts = (
        SEGMENT_HEADER_REQUEST.unpack_from(body, 0)
    )
    pos = SEGMENT_HEADER_REQUEST.size
    parts: list[Part] = []
    for _ in range(n_parts):
        kind, attrs, argc, big_argc, buf_len, _buf_size = PART_HEADER.unpack_from(body, pos)
        pos += PART_HEADER.size
        data = body[pos : pos + buf_len]
        pos += buf_len + (-buf_len % 8)
        parts.append(Part(kind, data, big_argc if argc == -1 else argc, attrs))
    return Request(session_id, packet_count, msg_type, bool(commit), parts)


def _message(session_id: int, packet_count: int, segment: bytes) -> bytes:
    header = MESSAGE_HEADER.pack(
        session_id, packet_count, len(segment), max(len(segment), MAX_PACKET), 1, 0
    )
    return header + segment


def encode_reply(
    session_id: int, packet_count: int, function_code: int, parts: list[Part]
) -> bytes:
    """A complete reply message with one reply segment."""
    data = b"".join(p.encode() for p in parts)
    seg = SEGMENT_HEADER_REPLY.pack(
        SEGMENT_HEADER_REPLY.size + len(data),
        0,
        len(parts),
        1,
        SegmentKind.REPLY,
        0,
        function_code,
    )
    return _message(session_id, packet_count, seg + data)


def encode_error(
    session_id: int,
    packet_count: int,
    code: int,
    text: str,
    level: int = 1,
    sql_state: str = "HY000",
    position: int = 0,
) -> bytes:
    """A complete error message: an error segment (kind 5) with one ERROR part."""
    raw = text.encode("utf-8")
    state = sql_state.encode("ascii")[:5].ljust(5, b"0")
    body = struct.pack("<iiib", code, position, len(raw), level) + state + raw
    part = Part(PartKind.ERROR, body, 1)
    data = part.encode()
    seg = SEGMENT_HEADER_REPLY.pack(
        SEGMENT_HEADER_REPLY.size + len(data), 0, 1, 1, SegmentKind.ERROR, 0, 0
    )
    return _message(session_id, packet_count, seg + data)


OptionValue = bool | int | float | str | bytes


def decode_options(data: bytes, count: int) -> dict[int, OptionValue]:
    """Decode an option part (``b key, b type, value``) into {key: value}."""
    out: dict[int, OptionValue] = {}
    pos = 0
    for _ in range(count):
        if pos + 2 > len(data):
            break
        key, typ = data[pos], data[pos + 1]
        pos += 2
        value: OptionValue
        if typ == OptionType.BOOLEAN:
            value, pos = bool(data[pos]), pos + 1
        elif typ == OptionType.INT:
            value, pos = struct.unpack_from("<i", data, pos)[0], pos + 4
        elif typ in (OptionType.BIGINT, OptionType.DOUBLE):
            fmt = "<q" if typ == OptionType.BIGINT else "<d"
            value, pos = struct.unpack_from(fmt, data, pos)[0], pos + 8
        elif typ in (OptionType.STRING, OptionType.BSTRING):
            (length,) = struct.unpack_from("<h", data, pos)
            raw = data[pos + 2 : pos + 2 + length]
            pos += 2 + length
            value = raw.decode("utf-8", "replace") if typ == OptionType.STRING else raw
        elif typ == 1:  # TINYINT
            value, pos = data[pos], pos + 1
        else:
            break
        out[key] = value
    return out


def encode_options(options: list[tuple[int, OptionValue]]) -> Part:
    """An option part's data (kind left 0: set it on the returned Part)."""
    buf = bytearray()
    for key, value in options:
        if isinstance(value, bool):
            buf += struct.pack("<bbb", key, OptionType.BOOLEAN, int(value))
        elif isinstance(value, int):
            buf += struct.pack("<bbi", key, OptionType.INT, value)
        elif isinstance(value, float):
            buf += struct.pack("<bbd", key, OptionType.DOUBLE, value)
        elif isinstance(value, str):
            raw = value.encode("utf-8")
            buf += struct.pack("<bbh", key, OptionType.STRING, len(raw)) + raw
        else:
            buf += struct.pack("<bbh", key, OptionType.BSTRING, len(value)) + value
    return Part(0, bytes(buf), len(options))
