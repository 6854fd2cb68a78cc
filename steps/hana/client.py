"""The wizard's SQL access to SAP HANA: one hdbcli connection per role, opened when first used.

Two roles connect: ``system`` (hana.system_user, or the hdbuserstore key hana.system_key)
and ``ml_user`` (hana.ml_user / hana.ml_user_key). With a key, hdbcli reads host, port,
user and password from the hdbuserstore of the user running the wizard; otherwise the
wizard gives address, SQL port, tenant (``databaseName``), user and the password taken from
``EMLSETUP_SYSTEM_PASSWORD`` / ``EMLSETUP_ML_USER_PASSWORD`` or typed at the prompt.

Every hdbcli exception leaves this module as a :class:`~steps.hana.errors.HanaError`: one
sentence with the fix, never a password.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hdbcli import dbapi

from steps.core.settings import HanaSettings
from steps.hana.errors import HanaError, explain

Role = Literal["system", "ml_user"]
ROLES: tuple[Role, ...] = ("system", "ml_user")
SYSTEM_PASSWORD_ENV = "EMLSETUP_SYSTEM_PASSWORD"
ML_USER_PASSWORD_ENV = "EMLSETUP_ML_USER_PASSWORD"
ENV_OF_ROLE = {"system": SYSTEM_PASSWORD_ENV, "ml_user": ML_USER_PASSWORD_ENV}
# A failed connect is remembered this long, so that the three AFL checks of step 1 do not
# each wait out the connect timeout; after it, the next use tries again (HANA may be up).
RETRY_CONNECT_AFTER_S = 15.0


@dataclass(frozen=True)
class HanaSecrets:
    """The two passwords, when known. They are never shown: not by repr, not in errors."""

    system_password: str | None = field(default=None, repr=False)
    ml_user_password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> HanaSecrets:
        return cls(
            system_password=environ.get(SYSTEM_PASSWORD_ENV) or None,
            ml_user_password=environ.get(ML_USER_PASSWORD_ENV) or None,
        )

    def password(self, role: str) -> str | None:
        return self.system_password if role == "system" else self.ml_user_password

    def all(self) -> list[str]:
        return [p for p in (self.system_password, self.ml_user_password) if p]

    def __repr__(self) -> str:
        def shown(p: str | None) -> str:
            return "set" if p else "unset"

        return (
            f"HanaSecrets(system_password={shown(self.system_password)}, "
            f"ml_user_password={shown(self.ml_user_password)})"
        )


class HanaAccess:
    """``query`` and ``execute_all`` as the engine's SqlBackend, on lazily opened connections.

    The engine evaluates a step's checks on several threads at once; each role's connection
    is used by one thread at a time.
    """

    def __init__(self, settings: HanaSettings, secrets: HanaSecrets) -> None:
        self.settings, self.secrets = settings, secrets
        self._conns: dict[str, Any] = {}
        self._failed: dict[str, tuple[float, HanaError]] = {}
        self._locks = {role: threading.RLock() for role in ROLES}

    def __repr__(self) -> str:
        h = self.settings
        return f"HanaAccess({h.address}:{h.sql_port}/{h.tenant}, {self.secrets!r})"

    def __enter__(self) -> HanaAccess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the SqlBackend protocol -----------------------------------------------------------
    def query(self, role: str, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        """The rows of one SELECT (or of a CALL's result sets); [] when it gives none."""
        with self._lock(role):
            conn = self._connection(role)
            try:
                cursor = conn.cursor()
                try:
                    self._run(cursor, sql, tuple(params or ()))
                    rows = _all_rows(cursor)
                finally:
                    cursor.close()
                conn.commit()  # no read transaction stays open while the wizard idles
                return rows
            except dbapi.Error as exc:
                self._forget_if_down(role, conn)
                raise self._explain(exc, role, sql) from None

    def execute_all(self, role: str, statements: list[str]) -> list[list[tuple[Any, ...]]]:
        """One action's statements in order, then COMMIT; on a failure ROLLBACK and the
        failing statement's sentence. Per statement: the rows of its result sets (a SELECT,
        or a CALL's output table parameters), or [] for DDL and DML."""
        results: list[list[tuple[Any, ...]]] = []
        with self._lock(role):
            conn = self._connection(role)
            current = ""
            try:
                cursor = conn.cursor()
                try:
                    for current in statements:
                        self._run(cursor, current, ())
                        results.append(_all_rows(cursor))
                finally:
                    cursor.close()
                conn.commit()
            except dbapi.Error as exc:
                _rollback(conn)
                self._forget_if_down(role, conn)
                raise self._explain(exc, role, current or None) from None
        return results

    def close(self) -> None:
        for role in list(self._conns):
            with self._lock(role):
                conn = self._conns.pop(role, None)
                if conn is not None:
                    with contextlib.suppress(dbapi.Error):
                        conn.close()

    # -- connections -----------------------------------------------------------------------
    def login(self, role: str) -> None:
        """Opens the role's connection (the preflight's "this login works"); HanaError with
        the sentence when it does not."""
        with self._lock(role):
            self._connection(role)

    def user(self, role: str) -> str:
        h = self.settings
        return h.system_user if role == "system" else h.ml_user

    def key(self, role: str) -> str | None:
        h = self.settings
        return h.system_key if role == "system" else h.ml_user_key

    def _lock(self, role: str) -> threading.RLock:
        if role not in self._locks:
            raise HanaError(f"unknown HANA role {role!r}", "use 'system' or 'ml_user'")
        return self._locks[role]

    def _connection(self, role: str) -> Any:
        conn = self._conns.get(role)
        if conn is not None:
            return conn
        failed = self._failed.get(role)
        if failed and time.monotonic() - failed[0] < RETRY_CONNECT_AFTER_S:
            raise failed[1]
        try:
            conn = dbapi.connect(**self._connect_args(role))
        except dbapi.Error as exc:
            error = self._explain(exc, role, None)
            self._failed[role] = (time.monotonic(), error)
            raise error from None
        self._failed.pop(role, None)
        self._conns[role] = conn
        return conn

    def _connect_args(self, role: str) -> dict[str, Any]:
        h = self.settings
        common: dict[str, Any] = {
            "autocommit": False,
            "encrypt": h.encrypt,
            "sslValidateCertificate": h.validate_certificate,
            "connectTimeout": int(h.connect_timeout_s * 1000),
            "communicationTimeout": int(h.command_timeout_s * 1000),
        }
        key = self.key(role)
        if key:
            return {"key": key, **common}
        password = self.secrets.password(role)
        if not password:
            raise HanaError(
                f"no password for {self.user(role)}",
                f"set {ENV_OF_ROLE[role]} (or type it when asked), or name an hdbuserstore "
                f"key in hana.{role}_key",
            )
        return {
            "address": h.address,
            "port": h.sql_port,
            "user": self.user(role),
            "password": password,
            "databaseName": h.tenant,
            **common,
        }

    def _run(self, cursor: Any, sql: str, params: tuple[Any, ...]) -> None:
        cursor.setquerytimeout(int(self.settings.command_timeout_s))
        if params:
            cursor.execute(sql, params)
        else:
            cursor.execute(sql)

    def _forget_if_down(self, role: str, conn: Any) -> None:
        try:
            alive = conn.isconnected()
        except dbapi.Error:
            alive = False
        if not alive:
            self._conns.pop(role, None)

    def _explain(self, exc: BaseException, role: str, statement: str | None) -> HanaError:
        h = self.settings
        return explain(
            exc,
            user=self.user(role),
            address=h.address,
            port=h.sql_port,
            tenant=h.tenant,
            key=self.key(role),
            statement=statement,
            secrets=self.secrets.all(),
        )


def _all_rows(cursor: Any) -> list[tuple[Any, ...]]:
    """Every result set the statement produced, in order (a CALL may give several)."""
    rows: list[tuple[Any, ...]] = []
    if cursor.has_result_set():
        rows += _fetch(cursor)
    while cursor.nextset():
        if cursor.has_result_set():
            rows += _fetch(cursor)
    return rows


def _fetch(cursor: Any) -> list[tuple[Any, ...]]:
    fetched: Sequence[Any] = cursor.fetchall() or []
    return [tuple(row) for row in fetched]


def _rollback(conn: Any) -> None:
    with contextlib.suppress(dbapi.Error):  # if the connection is gone, HANA rolled back
        conn.rollback()
