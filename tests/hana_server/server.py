"""A threaded TCP server that speaks enough of the HANA SQL protocol for the real hdbcli.

One thread a connection. Each connection: the 14-byte init exchange, optionally
DBCONNECTINFO (``databaseName``), AUTHENTICATE + CONNECT (SCRAM), then statements
(EXECUTEDIRECT, PREPARE/EXECUTE, FETCHNEXT, ...) answered by a :class:`Catalogue`.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .auth import ScramExchange
from .catalogue import Catalogue, SqlSession, count_placeholders, function_code_for
from .framing import (
    ATTR_LAST_PACKET,
    ATTR_RESULTSET_CLOSED,
    ATTR_ROW_NOT_FOUND,
    INIT_REPLY,
    INIT_REQUEST_SIZE,
    FunctionCode,
    MessageType,
    Part,
    PartKind,
    Request,
    decode_options,
    encode_error,
    encode_options,
    encode_reply,
    read_request,
    recv_exact,
)
from .results import CallResult, HanaError, ResultSet, RowCount, authentication_failed
from .types import cesu8_decode, decode_parameters, encode_parameter_metadata, encode_rows
from .types import encode_resultset_metadata as encode_metadata

# DBCONNECTINFO option keys.
_DB_NAME, _DB_HOST, _DB_PORT, _DB_IS_CONNECTED = 1, 2, 3, 4


@dataclass(frozen=True)
class Statement:
    """One statement as received: who sent it, its text, its bound parameters."""

    user: str
    sql: str
    params: tuple[Any, ...] = ()


@dataclass
class _Cursor:
    result: ResultSet
    sent: int = 0


@dataclass
class _Session:
    """Per-connection state."""

    session_id: int = 0
    user: str = ""
    sql: SqlSession | None = None
    scram: ScramExchange | None = None
    prepared: dict[int, tuple[str, int]] = field(default_factory=dict)
    cursors: dict[int, _Cursor] = field(default_factory=dict)


class ServerCore:
    """Serve ``catalogue`` on 127.0.0.1 (a free port unless given) in daemon threads.

    ``statements`` lists every statement received (EXECUTEDIRECT and EXECUTE, in order);
    ``on_statement`` is called after each one ran (before the client gets its reply);
    ``page_size`` is the rows a result-set packet carries before the client must FETCHNEXT.
    Used in a child process by :class:`~tests.hana_server.process.HanaTestServer`.
    """

    def __init__(
        self,
        catalogue: Catalogue,
        port: int = 0,
        page_size: int = 1000,
        on_statement: Callable[[Statement], None] | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.page_size = page_size
        self.on_statement = on_statement
        self.statements: list[Statement] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._requested_port = port
        self._tcp: _TCPServer | None = None
        self._thread: threading.Thread | None = None
        self._clients: set[socket.socket] = set()

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (valid after start)."""
        if self._tcp is None:
            raise RuntimeError("server not started")
        return int(self._tcp.server_address[1])

    @property
    def host(self) -> str:
        """Always 127.0.0.1."""
        return "127.0.0.1"

    def start(self) -> ServerCore:
        """Bind and serve in a daemon thread."""
        self._tcp = _TCPServer(("127.0.0.1", self._requested_port), _Handler)
        self._tcp.owner = self
        self._thread = threading.Thread(
            target=self._tcp.serve_forever, args=(0.05,), name="hana-test-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close the listening socket and every client connection."""
        if self._tcp is not None:
            self._tcp.shutdown()
            self._tcp.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            clients, self._clients = set(self._clients), set()
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def track(self, sock: socket.socket, alive: bool) -> None:
        """Remember open client sockets so that :meth:`stop` can close them."""
        with self._lock:
            if alive:
                self._clients.add(sock)
            else:
                self._clients.discard(sock)

    def next_id(self) -> int:
        """A fresh id for sessions, statements and result sets."""
        with self._lock:
            return next(self._ids)

    def record(self, statement: Statement) -> None:
        """Append to ``statements`` and tell ``on_statement`` (one at a time)."""
        with self._lock:
            self.statements.append(statement)
            if self.on_statement is not None:
                self.on_statement(statement)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ServerCore


class _Handler(socketserver.BaseRequestHandler):
    """One client connection."""

    server: _TCPServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if recv_exact(sock, INIT_REQUEST_SIZE) is None:
            return
        sock.sendall(INIT_REPLY)
        owner = self.server.owner
        owner.track(sock, True)
        try:
            _Connection(owner, sock).serve()
        finally:
            owner.track(sock, False)


class _Connection:
    """Dispatches one client's requests."""

    def __init__(self, owner: ServerCore, sock: socket.socket) -> None:
        self.owner = owner
        self.cat = owner.catalogue
        self.sock = sock
        self.s = _Session()

    def serve(self) -> None:
        while True:
            try:
                req = read_request(self.sock)
            except OSError:
                return
            if req is None:
                return
            try:
                reply, close = self.dispatch(req)
            except HanaError as err:
                reply, close = self.error(req, err), False
            try:
                self.sock.sendall(reply)
            except OSError:
                return
            if close:
                return

    def error(self, req: Request, err: HanaError) -> bytes:
        return encode_error(
            self.s.session_id, req.packet_count, err.code, err.text, err.level, err.sql_state
        )

    def reply(self, req: Request, code: int, parts: list[Part]) -> bytes:
        return encode_reply(self.s.session_id, req.packet_count, code, parts)

    def dispatch(self, req: Request) -> tuple[bytes, bool]:
        mt = req.message_type
        if mt == MessageType.DBCONNECTINFO:
            return self.db_connect_info(req), False
        if mt == MessageType.AUTHENTICATE:
            return self.authenticate(req), False
        if mt == MessageType.CONNECT:
            return self.connect(req), False
        if not self.s.session_id:
            raise HanaError(-10821, "Session not connected")
        if mt == MessageType.EXECUTEDIRECT:
            return self.execute_direct(req), False
        if mt == MessageType.PREPARE:
            return self.prepare(req), False
        if mt == MessageType.EXECUTE:
            return self.execute(req), False
        if mt == MessageType.FETCHNEXT:
            return self.fetch_next(req), False
        if mt == MessageType.CLOSERESULTSET:
            rsid = _id_of(req, PartKind.RESULTSETID)
            self.s.cursors.pop(rsid, None)
            return self.reply(req, FunctionCode.CLOSECURSOR, []), False
        if mt == MessageType.DROPSTATEMENTID:
            self.s.prepared.pop(_id_of(req, PartKind.STATEMENTID), None)
            return self.reply(req, FunctionCode.NIL, []), False
        if mt == MessageType.COMMIT:
            return self.reply(req, FunctionCode.COMMIT, []), False
        if mt == MessageType.ROLLBACK:
            return self.reply(req, FunctionCode.ROLLBACK, []), False
        if mt == MessageType.DISCONNECT:
            return self.reply(req, FunctionCode.DISCONNECT, []), True
        raise HanaError(-10900, f"message type {mt} not supported by the test server")

    # -- connection set-up ----------------------------------------------------------------

    def db_connect_info(self, req: Request) -> bytes:
        part = req.part(PartKind.DBCONNECTINFO)
        opts = decode_options(part.data, part.arg_count) if part else {}
        name = str(opts.get(_DB_NAME, ""))
        if name and name.upper() != self.cat.tenant.upper():
            raise HanaError(10, f"database '{name}' does not exist on this test server", "28000")
        info = encode_options([(_DB_IS_CONNECTED, True)])
        info.kind = PartKind.DBCONNECTINFO
        return self.reply(req, FunctionCode.NIL, [info])

    def authenticate(self, req: Request) -> bytes:
        part = req.part(PartKind.AUTHENTICATION)
        if part is None:
            raise authentication_failed()
        try:
            self.s.scram = ScramExchange.start(part.data)
        except ValueError:
            # hdbcli reconnects with only a SessionCookie after a dropped connection; a
            # server that does not know the cookie refuses the login (error 10).
            raise authentication_failed() from None
        data = self.s.scram.challenge_reply()
        return self.reply(req, FunctionCode.NIL, [Part(PartKind.AUTHENTICATION, data, 1)])

    def connect(self, req: Request) -> bytes:
        part = req.part(PartKind.AUTHENTICATION)
        scram, self.s.scram = self.s.scram, None
        if part is None or scram is None:
            raise authentication_failed()
        final = scram.verify(part.data, self.cat.password_of(scram.user))
        if final is None:
            raise authentication_failed()
        self.s.user = self.cat.canonical_user(scram.user)
        self.s.sql = self.cat.session(self.s.user)
        self.s.session_id = self.owner.next_id() + (1 << 32)
        return self.reply(req, FunctionCode.NIL, [Part(PartKind.AUTHENTICATION, final, 1)])

    # -- statements -----------------------------------------------------------------------

    def execute_direct(self, req: Request) -> bytes:
        part = req.part(PartKind.COMMAND)
        if part is None:
            raise HanaError(-10900, "EXECUTEDIRECT without COMMAND")
        sql = cesu8_decode(part.data)
        return self.run(req, sql, ())

    def prepare(self, req: Request) -> bytes:
        part = req.part(PartKind.COMMAND)
        if part is None:
            raise HanaError(-10900, "PREPARE without COMMAND")
        sql = cesu8_decode(part.data)
        self.cat.check_syntax(sql)
        code = function_code_for(sql)
        # A CALL's placeholders are table outputs: they are left out of the metadata.
        n = 0 if code == FunctionCode.DBPROCEDURECALL else count_placeholders(sql)
        sid = self.owner.next_id()
        self.s.prepared[sid] = (sql, n)
        parts = [Part(PartKind.STATEMENTID, sid.to_bytes(8, "little"), 1)]
        if n:
            parts.append(Part(PartKind.PARAMETERMETADATA, encode_parameter_metadata(n), n))
        return self.reply(req, code, parts)

    def execute(self, req: Request) -> bytes:
        sid = _id_of(req, PartKind.STATEMENTID)
        if sid not in self.s.prepared:
            raise HanaError(-10900, f"unknown statement id {sid}")
        sql, n = self.s.prepared[sid]
        params: tuple[Any, ...] = ()
        part = req.part(PartKind.PARAMETERS)
        if n and part is not None:
            params = decode_parameters(part.data, n, part.arg_count)[0]
        return self.run(req, sql, params)

    def run(self, req: Request, sql: str, params: tuple[Any, ...]) -> bytes:
        assert self.s.sql is not None
        try:
            outcome = self.cat.execute(self.s.sql, sql, params)
        finally:
            self.owner.record(Statement(self.s.user, sql, params))
        if isinstance(outcome, RowCount):
            rows = Part(PartKind.ROWSAFFECTED, outcome.count.to_bytes(4, "little", signed=True))
            return self.reply(req, outcome.function_code, [rows])
        if isinstance(outcome, ResultSet):
            return self.reply(req, FunctionCode.SELECT, self.result_parts(outcome))
        assert isinstance(outcome, CallResult)
        if not outcome.tables:
            return self.reply(req, FunctionCode.DBPROCEDURECALL, [])
        parts = [p for table in outcome.tables for p in self.result_parts(table, page_all=True)]
        return self.reply(req, FunctionCode.DBPROCEDURECALLWITHRESULT, parts)

    def result_parts(self, result: ResultSet, page_all: bool = False) -> list[Part]:
        rsid = self.owner.next_id()
        cursor = _Cursor(result)
        parts = [
            Part(PartKind.RESULTSETMETADATA, encode_metadata(result.columns), len(result.columns)),
            Part(PartKind.RESULTSETID, rsid.to_bytes(8, "little"), 1),
            self.page(cursor, None if page_all else self.owner.page_size),
        ]
        if cursor.sent < len(result.rows):
            self.s.cursors[rsid] = cursor
        return parts

    def page(self, cursor: _Cursor, size: int | None) -> Part:
        rows = (
            cursor.result.rows[cursor.sent :]
            if size is None
            else (cursor.result.rows[cursor.sent : cursor.sent + size])
        )
        cursor.sent += len(rows)
        done = cursor.sent >= len(cursor.result.rows)
        attrs = ATTR_LAST_PACKET | ATTR_RESULTSET_CLOSED if done else 0
        if not rows:  # hdbcli needs "row not found" on an empty packet, or it fetches again
            attrs |= ATTR_ROW_NOT_FOUND
        data = encode_rows(cursor.result.columns, rows)
        return Part(PartKind.RESULTSET, data, len(rows), attrs)

    def fetch_next(self, req: Request) -> bytes:
        rsid = _id_of(req, PartKind.RESULTSETID)
        cursor = self.s.cursors.get(rsid)
        if cursor is None:
            raise HanaError(-10900, f"unknown or closed result set {rsid}")
        size_part = req.part(PartKind.FETCHSIZE)
        size = int.from_bytes(size_part.data[:4], "little") if size_part else self.owner.page_size
        part = self.page(cursor, min(max(size, 1), self.owner.page_size))
        if part.attributes & ATTR_LAST_PACKET:
            self.s.cursors.pop(rsid, None)
        return self.reply(req, FunctionCode.FETCH, [part])


def _id_of(req: Request, kind: int) -> int:
    part = req.part(kind)
    return int.from_bytes(part.data[:8], "little") if part else -1
