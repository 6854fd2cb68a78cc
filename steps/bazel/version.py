"""The version of a Bazel the admin brings (``serving.bazel``), read before the build and
compared with the one the TF Serving tag pins: a mismatch is one preflight line, not a
failure hours into the build.

What the binaries answer (the parsing is pure; tests/test_bazel_version.py holds the
samples):
- ``bazel --version`` prints ``bazel 4.2.3`` without starting a server (the form the
  ``bazel`` wrapper script of Debian's package reads, ``grep '^bazel '``; bazelbuild/bazel
  issue 26225 shows ``bazel 8.2.1``). A Bazel built from source, as Debian 12's
  ``bazel-bootstrap`` 4.2.3 is, prints ``bazel no_version`` (measured here; bazelbuild/bazel
  src/test/py/bazel/bazel_version_test.py expects the same of an unreleased build).
- Bazels before ``--version`` existed answer ``Unknown startup option: '--version'.``
  (bazelbuild/bazel issue 3599, 0.5.3); for those ``bazel version`` prints ``Build label:
  0.11.1`` (it starts a server, so it runs as the admin, in the admin's output base).
- Debian's build answers ``bazel version`` with ``ERROR: Version information not available``
  (exit 2, measured here).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from checks.evaluate import ProbeResult
from checks.preflight import Row
from checks.result import Status

_GNU = re.compile(r"^bazel (\S+)\s*$", re.M)
_LABEL = re.compile(r"^Build label: (\S+)\s*$", re.M)
_RELEASE = re.compile(r"^\d+\.\d+\.\d+")
OLD_CLIENT = "Unknown startup option"
# Any Bazel names itself when asked its version, even one without a release ("bazel
# no_version", "Build label:", Debian's "Version information not available" from a script
# named bazel, an old client's "Unknown startup option"): output without the word is
# another program's.
_NO_ANSWER = re.compile(r"^.*: no answer within (\d+s)$")  # steps/core/runner.py's probe
_BAZELISH = re.compile(r"bazel|Build label|Unknown startup option|Version information", re.I)

Probe = Callable[[list[str], str], ProbeResult]


def parse(text: str) -> str | None:
    """The release a ``bazel --version`` or ``bazel version`` output names ("4.2.3",
    "6.0.0-pre.20220112.2"), or None when it names none (a build from source, an error)."""
    for pattern in (_GNU, _LABEL):
        found = pattern.search(text)
        if found and _RELEASE.match(found.group(1)):
            return found.group(1).rstrip("-")
    return None


def matches(found: str | None, wanted: str) -> bool:
    """Exactly the pinned release: TF Serving's Dockerfile.devel pins one (serving_build.py),
    and a release candidate or another patch release is not it."""
    return found == wanted


def read(probe: Probe, path: str) -> tuple[str | None, str]:
    """(the version, what the binary said) of the Bazel at ``path`` on the target."""
    first = probe([path, "--version"], "self")
    found = parse(first.output) if first.exit_code == 0 else None
    if found is None and OLD_CLIENT in first.output:
        second = probe([path, "version"], "admin")
        return parse(second.output), second.output
    return found, first.output


def row(path: str, found: str | None, said: str, wanted: str, tag: str) -> Row:
    """The preflight's ``bazel`` line: the admin's Bazel against the tag's pin."""
    first = next((line.strip() for line in said.splitlines() if line.strip()), "nothing")
    silent = _NO_ANSWER.match(said.strip())  # the probe's words, not the program's
    stranger = found is None and not silent and not _BAZELISH.search(said)
    if found is not None:
        measured = f"{path} is Bazel {found}"
    elif silent:
        measured = f"{path} did not answer --version within {silent.group(1)}"
    elif stranger:
        measured = f"{path} is not Bazel: --version printed {first[:80]}"
    else:
        measured = f"{path} names no release ({first[:80]})"
    ok = matches(found, wanted)
    if silent:
        fix = (
            f"make `{path} --version` print its version (a wrapper that downloads Bazel needs "
            f"the network), point serving.bazel at a Bazel {wanted}, or remove serving.bazel "
            "and step 5 installs it"
        )
    elif stranger:  # a typo'd path, /bin/true: no build of it would give a model server
        fix = (
            f"point serving.bazel at your Bazel {wanted} (command -v bazel), or remove "
            "serving.bazel and step 5 installs it"
        )
    else:
        fix = (
            f"point serving.bazel at a Bazel {wanted}, or remove serving.bazel and step 5 "
            "installs it; another Bazel may fail hours into the build"
        )
    return Row(
        name="bazel",
        check=f"your Bazel (serving.bazel) is the one TF Serving {tag} pins",
        status=Status.OK if ok else Status.FAIL,
        measured=measured,
        needed=f"Bazel {wanted}",
        fix="" if ok else fix,
        steps=(5,),
    )
