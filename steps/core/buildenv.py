"""The build's environment: only what a Bazel build needs (an allow-list), and never a
credential in what is recorded.

The environment a detached build runs with is saved in the state, so that a build that
died is re-run with the identical environment (Bazel keeps its finished actions only for an
identical one). Recording the wizard's whole environment would put any secret in it
(`HDB_PW=...`, `https_proxy=http://user:pw@proxy`) into state.json: the build gets the
variables below only, and what is recorded has credentials cut out of URLs. A re-run takes
them back from the environment of the run that re-runs it, where they still match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# What Bazel, the compilers and the downloads of a TensorFlow Serving build read.
ALLOWED = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "TZ", "LANG", "LANGUAGE", "TMPDIR",
    "JAVA_HOME", "CC", "CXX", "PYTHON_BIN_PATH", "EMLSETUP_ROOT",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH",
    "http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy",
    "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "ALL_PROXY", "NO_PROXY",
})  # fmt: skip
ALLOWED_PREFIXES = ("LC_",)
# Names (or NAME* prefixes), comma-separated, that the admin adds to the build's environment.
EXTRA_VAR = "EMLSETUP_BUILD_ENV"
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|_PW$|_PWD$|KEY$", re.I)
# scheme://user[:password]@ : the userinfo of a URL (RFC 3986 section 3.2.1); '"' and '\'
# end it too, so the pattern stays inside one JSON string.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@\"\\]+@")


def strip_url_credentials(text: str) -> str:
    """``http://user:pw@proxy:3128`` -> ``http://proxy:3128``, anywhere in ``text``."""
    return _USERINFO.sub(r"\1", text)


def _extra(env: Mapping[str, str]) -> list[str]:
    return [n.strip() for n in env.get(EXTRA_VAR, "").split(",") if n.strip()]


def _allowed(name: str, extra: list[str]) -> bool:
    if name in ALLOWED or name.startswith(ALLOWED_PREFIXES):
        return True
    if _SECRET_NAME.search(name):
        return False  # never, even when asked for
    return any(name == e or (e.endswith("*") and name.startswith(e[:-1])) for e in extra)


def build_env(env: Mapping[str, str]) -> dict[str, str]:
    """The build's environment: the allowed variables of ``env`` (proxies keep their
    credentials: the build's downloads need them)."""
    extra = _extra(env)
    return {k: v for k, v in env.items() if _allowed(k, extra)}


def recordable(env: Mapping[str, str]) -> dict[str, str]:
    """What is saved in the state: the same variables, credentials cut out of URLs."""
    return {k: strip_url_credentials(v) for k, v in env.items()}


def restore(recorded: Mapping[str, str], current: Mapping[str, str]) -> dict[str, str]:
    """The recorded environment with the credentials the current one has for the same
    URLs: a re-run gets the identical environment without it having been written down."""
    return {
        k: current[k] if k in current and strip_url_credentials(current[k]) == v else v
        for k, v in recorded.items()
    }


def restore_argv(recorded: list[str], current: list[str]) -> list[str]:
    """The same for a recorded command line (a clone URL with a token in it)."""
    if len(recorded) != len(current):
        return list(recorded)
    pairs = zip(recorded, current, strict=True)
    return [c if strip_url_credentials(c) == r else r for r, c in pairs]
