"""hdbcli's errors, as one sentence for the admin with the fix.

hdbcli raises ``dbapi.Error`` (and subclasses) carrying ``errorcode`` and ``errortext``.
Server errors have HANA's positive SQL error codes (10 authentication failed, 258
insufficient privilege, 259 invalid table name, ...); client-side failures are negative:
every connect failure is -10709 and only its text tells refused, timed out, unknown host
and TLS problems apart; an unknown hdbuserstore key is -10104. Texts below were seen from
hdbcli 2.30 where they can be provoked locally, otherwise taken from SAP's list of SQL
error codes (see tests/test_hana_client.py).

No password or key secret ever reaches a sentence: ``explain`` scrubs every secret it is
given from HANA's own text before quoting it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from checks.sql import SqlFailure

ROLE_EML = "AFL__SYS_AFL_EML_EXECUTE"
AUTH_FAILED = 10
FORCED_PASSWORD_CHANGE = 414
INSUFFICIENT_PRIVILEGE = 258
INVALID_TABLE = 259
INVALID_PROCEDURE = 328
INVALID_SCHEMA = 362
CONNECT_FAILED = -10709
INVALID_KEY = -10104
CONNECTION_DOWN = -10807
# SAP's SQL error codes for "cannot use duplicate ... name" / "already exists".
DUPLICATES = {288, 289, 301, 308, 322, 324, 329, 330, 331, 386, 388, 396}


class HanaError(SqlFailure):
    """One sentence saying what went wrong with HANA (``message``) and what to do (``fix``);
    ``str()`` is both, as the executor shows it."""

    def __init__(self, message: str, fix: str = "", code: int | None = None) -> None:
        super().__init__(message, fix)
        self.code = code


def explain(
    exc: BaseException,
    *,
    user: str,
    address: str,
    port: int,
    tenant: str,
    key: str | None = None,
    statement: str | None = None,
    secrets: Iterable[str] = (),
) -> HanaError:
    """The sentence for an hdbcli exception (any other exception is quoted as it is)."""
    if isinstance(exc, HanaError):
        return exc
    code = _code(exc)
    text = _scrub(_text(exc), [s for s in secrets if s])
    who = f"{user} (hdbuserstore key {key})" if key else user
    where = f"{address}:{port}" if not key else f"the host of hdbuserstore key {key}"
    name = _object_name(text, statement)
    if code == AUTH_FAILED:
        fix = (
            f"check that key {key} holds the right user and password: `hdbuserstore list {key}`"
            if key
            else f"check {user}'s password (the environment variable or what you typed); "
            "with an hdbuserstore key, check it with `hdbuserstore list`"
        )
        return HanaError(
            f"HANA refused the login of {who} on tenant {tenant} (error 10: authentication failed)",
            fix,
            code,
        )
    if code == FORCED_PASSWORD_CHANGE or "forced to change" in text.lower():
        return HanaError(
            f"{who} must change the initial password before it can work (error {code})",
            f"log on once as {user} with hdbsql or HANA Studio and set a new password",
            code,
        )
    if code == INSUFFICIENT_PRIVILEGE:
        guid = re.search(r"guid '([0-9A-F]+)'", text)
        said = (
            f" (details: CALL SYS.GET_INSUFFICIENT_PRIVILEGE_ERROR_DETAILS('{guid.group(1)}', ?))"
            if guid
            else ""
        )
        return HanaError(
            f"{user} lacks a privilege for {_short(statement)} (error 258: insufficient "
            f"privilege){said}",
            _grant_fix(user, statement or ""),
            code,
        )
    if code in (INVALID_TABLE, INVALID_PROCEDURE, INVALID_SCHEMA):
        kind = {INVALID_TABLE: "table or view", INVALID_PROCEDURE: "procedure"}.get(code, "schema")
        return HanaError(
            f"HANA has no {kind} {name or _short(statement)} (error {code}: {_first(text)})",
            _creator_fix(name or "", statement or ""),
            code,
        )
    if code in DUPLICATES or re.search(r"already exists|duplicate", text, re.I):
        return HanaError(
            f"{name or 'the object'} already exists (error {code}: {_first(text)})",
            "it was made outside the wizard with other settings; check it, or drop it so "
            "the wizard creates it as the tutorial says, then resume",
            code,
        )
    if code == INVALID_KEY or (key and "KEY" in text and "nvalid" in text):
        return HanaError(
            f"hdbuserstore key {key} was not found for the user running the wizard (error {code})",
            f"create it as this user: `hdbuserstore SET {key} <host>:<port>@{tenant} "
            f"{user} <password>`, or check `hdbuserstore list`",
            code,
        )
    if code == CONNECT_FAILED or _is_connect_text(text):
        return _connect(text, code, who, where, tenant)
    if re.search(r"timeout|timed out", text, re.I):
        return HanaError(
            f"HANA did not answer {_short(statement)} within the command timeout (error {code})",
            "raise hana.command_timeout_s if the statement is slow, or check the database's load",
            code,
        )
    if code == CONNECTION_DOWN:
        return HanaError(
            f"the connection to HANA on {where} was lost (error {code}: {_first(text)})",
            "check that HANA still runs (`HDB info`), then resume: the wizard reconnects",
            code,
        )
    shown = f"error {code}: {_first(text)}" if code is not None else _first(text)
    return HanaError(f"HANA failed {_short(statement)} as {user} ({shown})", "", code)


# -- connecting ------------------------------------------------------------------------------
def _connect(text: str, code: int | None, who: str, where: str, tenant: str) -> HanaError:
    low = text.lower()
    if "refused" in low:
        return HanaError(
            f"nothing accepts connections on {where} (error {code}: connection refused)",
            "is HANA running? as <sid>adm run `HDB info`; the tenant's SQL port is "
            "3<instance>15 (39015 for HXE, instance 90): check hana.sql_port",
            code,
        )
    if "timeout" in low or "timed out" in low:
        return HanaError(
            f"HANA on {where} did not answer within the connect timeout (error {code})",
            "check hana.address and hana.sql_port and that no firewall drops the port; "
            "on a slow network raise hana.connect_timeout_s",
            code,
        )
    if "resolve" in low or "name or service not known" in low:
        return HanaError(
            f"the host name of {where} cannot be resolved (error {code})",
            "check hana.address (a name this machine resolves, or an IP address)",
            code,
        )
    if "certificate" in low:
        return HanaError(
            f"the TLS certificate of {where} was not trusted (error {code})",
            "trust its CA on this machine, or for HANA's self-signed certificate set "
            "hana.validate_certificate = false",
            code,
        )
    if "ssl handshake" in low or "ssl record" in low or "ssl engine" in low:
        return HanaError(
            f"{where} does not speak TLS; the wizard asked for an encrypted connection "
            f"(error {code})",
            "set hana.encrypt = false, or enable TLS on the server",
            code,
        )
    if re.search(r"secure connection|encrypt|\bssl\b|\btls\b", low):
        return HanaError(
            f"HANA on {where} requires an encrypted connection (error {code})",
            "set hana.encrypt = true (and hana.validate_certificate = false for a "
            "self-signed certificate)",
            code,
        )
    if "reset by peer" in low or "closed by peer" in low:
        return HanaError(
            f"HANA on {where} closed the connection while {who} connected (error {code})",
            "if the server accepts only encrypted connections set hana.encrypt = true; "
            "otherwise check hana.sql_port is the SQL port of tenant " + tenant,
            code,
        )
    return HanaError(
        f"cannot connect to HANA on {where} (error {code}: {_first(text)})",
        "check hana.address and hana.sql_port, and that HANA runs (`HDB info`)",
        code,
    )


def _is_connect_text(text: str) -> bool:
    return bool(re.search(r"Connect(ion)? failed", text))


# -- naming the object and the fix -----------------------------------------------------------
def _grant_fix(user: str, statement: str) -> str:
    s = statement.upper()
    if "EML" in s and ("_SYS_AFL" in s or "CALL" in s):
        if "EML_MODEL_CONFIGURATION" in s:
            return (
                "as SYSTEM: GRANT SELECT, UPDATE, DELETE, INSERT ON "
                f"_SYS_AFL.EML_MODEL_CONFIGURATION TO {user} (step 7)"
            )
        return f"as SYSTEM: GRANT {ROLE_EML} TO {user} (step 7)"
    if "CREATE REMOTE SOURCE" in s:
        return f"as SYSTEM: GRANT CREATE REMOTE SOURCE TO {user}"
    if "CREATE SCHEMA" in s:
        return f"as SYSTEM: GRANT CREATE SCHEMA TO {user}"
    if s.startswith("GRANT"):
        return f"{user} may not grant this: use a user with the privilege WITH ADMIN OPTION"
    if "UPDATE_CONFIGURATION" in s:
        return f"as SYSTEM: GRANT {ROLE_EML} TO {user}, and the EML_MODEL_CONFIGURATION grant"
    return f"grant {user} the privilege this statement needs (the details call names it)"


def _creator_fix(name: str, statement: str) -> str:
    both = f"{name} {statement}".upper()
    if "AFL" in both or "EML_CTL_PROC" in both or "EML_CHECKDESTINATION" in both:
        return (
            "install the SAP HANA External Machine Learning AFL package (step 1), then "
            "restart the tenant"
        )
    if any(n in both for n in ("EML_DATA", "UPDATE_CONFIGURATION", "CHECK_PARAMS")):
        return "step 7 creates it: run step 7 (its actions create the schema, tables and procedure)"
    return "check the name; the schema or object does not exist in this tenant"


def _object_name(text: str, statement: str | None) -> str | None:
    """The object HANA's text names ("Could not find table/view X in schema Y")."""
    found = re.search(r"table/view\s+\"?([\w.$]+)\"?(?:\s+in schema\s+\"?([\w$]+)\"?)?", text, re.I)
    if found:
        obj, schema = found.group(1), found.group(2)
        return f"{schema}.{obj}" if schema else obj
    for pattern in (r"function or procedure:\s*\"?([\w.$]+)", r"schema name:\s*\"?([\w$]+)"):
        found = re.search(pattern, text, re.I)
        if found:
            return found.group(1)
    if statement:
        made = re.match(
            r"\s*CREATE\s+(?:REMOTE SOURCE|SCHEMA|TABLE|PROCEDURE|COLUMN TABLE)\s+(\"[^\"]+\"|\w+)",
            statement,
            re.I,
        )
        if made:
            return made.group(1)
    return None


# -- helpers --------------------------------------------------------------------------------
def _code(exc: BaseException) -> int | None:
    code = getattr(exc, "errorcode", None)
    if isinstance(code, int):
        return code
    args: tuple[object, ...] = tuple(getattr(exc, "args", ()))
    return args[0] if args and isinstance(args[0], int) else None


def _text(exc: BaseException) -> str:
    text = getattr(exc, "errortext", None)
    if isinstance(text, str):
        return text
    args: tuple[object, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2 and isinstance(args[1], str):
        return args[1]
    return str(exc)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _first(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "no message"
    return line if len(line) <= 160 else line[:157] + "..."


def _short(statement: str | None) -> str:
    if not statement:
        return "the statement"
    flat = " ".join(statement.split())
    return flat if len(flat) <= 70 else flat[:67] + "..."
