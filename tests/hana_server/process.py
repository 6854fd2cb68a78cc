"""HanaTestServer: the protocol server in a child process, its results in the parent.

Why a process: hdbcli sometimes blocks on the network while holding the GIL (seen when a
cursor with an open result set is closed or collected, and on disconnect). A server thread
in the same interpreter then never gets to answer and both sides wait forever. In a child
process the server always answers; the parent sees what it did through a pipe:

* each statement, with a snapshot of the catalogue's state taken after it ran, is sent to
  the parent *before* the client gets its reply, so once ``cursor.execute`` returns,
  ``srv.statements`` and ``catalogue.state`` (both synced on access) include it;
* state changed in the parent while the server runs reaches the child with
  :meth:`HanaTestServer.push_state`;
* with ``save_to``, the child writes the catalogue's state to that file after every
  statement, before the client gets its reply (tests/hana_server/persist.py): a server
  started again from the file holds what this one held, as a restarted HANA does.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

from . import persist
from .catalogue import Catalogue
from .server import ServerCore, Statement
from .state import State

_START_TIMEOUT = 20.0


_ROOT = str(Path(__file__).resolve().parents[2])


def _child_entry(fd: int) -> None:
    """``python -c`` entry point of the server process: read its arguments, then serve."""
    conn = Connection(fd)
    catalogue, page_size, port, save_to = conn.recv()
    _child_main(catalogue, page_size, port, conn, save_to)


def _child_main(
    catalogue: Catalogue, page_size: int, port: int, conn: Connection, save_to: Path | None
) -> None:
    """Serve until told to stop or the parent goes away."""
    send_lock = threading.Lock()
    saved = [b""]

    def save() -> None:
        """The state to ``save_to`` when it changed (called with the catalogue's lock held,
        so that files are written in the order the statements ran)."""
        if save_to is None:
            return
        data = persist.dump(catalogue._state, core.port)
        if data != saved[0]:
            persist.save(save_to, data)
            saved[0] = data

    outbox: queue.Queue[tuple[bytes, threading.Event]] = queue.Queue()

    def sender() -> None:
        while True:
            data, done = outbox.get()
            with send_lock:
                conn.send_bytes(data)
            done.set()
            outbox.task_done()

    def on_statement(statement: Statement) -> None:
        # Normally sent before the client's reply; a snapshot larger than the pipe buffer
        # would block until the parent reads, and the parent may be blocked in hdbcli
        # waiting for this reply: so the wait is bounded, the sender thread finishes it.
        with catalogue.lock:
            data = pickle.dumps(("statement", statement, catalogue._state))
            save()
        done = threading.Event()
        outbox.put((data, done))
        done.wait(2.0)

    threading.Thread(target=sender, name="hana-test-server-pipe", daemon=True).start()

    core = ServerCore(catalogue, port=port, page_size=page_size, on_statement=on_statement)
    core.start()
    with catalogue.lock:
        save()
    with send_lock:
        conn.send(("port", core.port))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            break
        if message[0] == "state":
            with catalogue.lock:
                catalogue._state = message[1]
                save()
            with send_lock:
                conn.send(("ack",))
        elif message[0] == "stop":
            break
    core.stop()
    outbox.join()
    with send_lock, contextlib.suppress(OSError):
        conn.send(("stopped",))


class HanaTestServer:
    """A HANA SQL port on 127.0.0.1 that the real hdbcli connects to.

    ``with HanaTestServer(catalogue) as srv:`` starts a child process serving
    ``catalogue`` (a copy of it: the parent's copy is updated from the child's after every
    statement). ``srv.port`` is the SQL port, ``srv.statements`` every statement received.
    ``save_to``: a file the server keeps the catalogue's state in (tests/hana_server/persist.py).
    """

    def __init__(
        self,
        catalogue: Catalogue,
        port: int = 0,
        page_size: int = 1000,
        save_to: Path | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.save_to = save_to
        self.page_size = page_size
        self._requested_port = port
        self._port: int | None = None
        self._statements: list[Statement] = []
        self._lock = threading.RLock()
        self._conn: Connection | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> HanaTestServer:
        """Spawn the server process and wait for its port."""
        ours, theirs = socket.socketpair()
        code = (
            f"import sys; sys.path.insert(0, {_ROOT!r}); "
            "from tests.hana_server.process import _child_entry; "
            f"_child_entry({theirs.fileno()})"
        )
        # A fresh interpreter (not multiprocessing): nothing of the parent's main module,
        # sockets or hdbcli state is inherited. In a session of its own: a Ctrl-C in the
        # terminal (SIGINT to the foreground process group) is for the command the demo runs,
        # which still talks to HANA while it stops cleanly. It ends when the parent does
        # (the socket pair closes).
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code],
            pass_fds=[theirs.fileno()],
            cwd=_ROOT,
            start_new_session=True,
        )
        theirs.close()
        parent = Connection(os.dup(ours.fileno()))
        ours.close()
        self._conn = parent
        parent.send((self.catalogue, self.page_size, self._requested_port, self.save_to))
        if not parent.poll(_START_TIMEOUT):
            self._proc.kill()
            raise RuntimeError("HANA test server process did not start")
        message = parent.recv()
        self._port = int(message[1])
        self.catalogue._sync = self._drain
        # The parent reads the child's reports as they come, also while the test is blocked
        # (in subprocess.run of the CLI): else, once the pipe is full, every statement waits
        # out the child's 2 s bound and a CLI run of 20 statements takes 40 s.
        self._reader = threading.Thread(target=self._follow, name="hana-follow", daemon=True)
        self._reader.start()
        return self

    def _follow(self) -> None:
        while True:
            conn = self._conn
            if conn is None:
                return
            try:
                ready = conn.poll(0.1)
            except (EOFError, OSError, ValueError):
                return
            if ready:
                self._drain()

    def stop(self) -> None:
        """Stop the server process (clients still connected see the connection drop)."""
        conn, self._conn = self._conn, None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.join(timeout=5)
        if conn is not None:
            try:
                conn.send(("stop",))
                while conn.poll(10):
                    message = conn.recv()
                    if message[0] == "stopped":
                        break
                    self._handle(message)
            except (EOFError, OSError):
                pass
            conn.close()
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
            self._proc = None
        if self.catalogue._sync == self._drain:
            self.catalogue._sync = None

    def __enter__(self) -> HanaTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what the parent sees -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The SQL port (after start)."""
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def host(self) -> str:
        """Always 127.0.0.1."""
        return "127.0.0.1"

    def query(self, sql: str, user: str, password: str) -> list[tuple[Any, ...]]:
        """The rows of one query, read as an admin would: through the real hdbcli client."""
        from hdbcli import dbapi

        conn = dbapi.connect(
            address=self.host, port=self.port, user=user, password=password, databaseName="HXE"
        )
        try:
            cur = conn.cursor()
            cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]
        finally:
            conn.close()

    @property
    def statements(self) -> list[Statement]:
        """Every statement received so far, in order."""
        self._drain()
        return self._statements

    def push_state(self) -> None:
        """Send the parent's ``catalogue.state`` (changed by the test) to the server."""
        with self._lock:
            state = self.catalogue.state  # drains first
            if self._conn is None:
                return
            self._conn.send(("state", state))
            while True:
                message = self._conn.recv()
                if message[0] == "ack":
                    return
                self._handle(message)

    def _drain(self) -> None:
        with self._lock:
            conn = self._conn
            while conn is not None and conn.poll(0):
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    return
                self._handle(message)

    def _handle(self, message: tuple[Any, ...]) -> None:
        if message[0] == "statement":
            self._statements.append(message[1])
            _replace_state(self.catalogue._state, message[2])


def _replace_state(target: State, source: State) -> None:
    """Update ``target`` in place so references to the state object stay valid."""
    target.__dict__.update(source.__dict__)
