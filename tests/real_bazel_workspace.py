"""A C++ workspace shaped like TF Serving's checkout, for the real Bazel (Debian 12's
``bazel-bootstrap``, Bazel 4.2.3) to build offline: what tests/test_real_bazel.py plants
where step 5's checkout is, and what tools/record_real_bazel.py records fixtures from.

Facts it rests on (measured on this machine kind, /work/shared/notes/real-bazel.md):
- offline, Bazel 4.2's ``@bazel_tools`` loads ``@rules_cc``, ``@rules_java`` and (for a
  ``cc_test``) ``@remote_coverage_tools`` from the network; local folders whose rules
  forward to ``native.<rule>``, given with ``--override_repository``, replace them;
- Debian's /etc/bazel/bazelrc turns on ``--sandbox_debug``; ``--nosandbox_debug`` turns it off;
- ``/usr/bin/bazel`` is a shell script that needs coreutils on PATH.

Every part includes a salt header: a new salt makes Bazel compile those parts again, so
one workspace (and one warm Bazel server) gives each test a build with real work to do.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REAL_BAZEL = Path("/usr/bin/bazel")
PARTS = 72
GROUPS = 8  # part n includes salt_{n % GROUPS}.h
SERVER_TARGET = "//tensorflow_serving/model_servers:tensorflow_model_server"
SERVER_REL = Path("bazel-bin/tensorflow_serving/model_servers/tensorflow_model_server")
# The machine's own tools first: the real Bazel script and the compilers it finds on PATH,
# never the sandbox's stand-in gcc.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_CC_DEFS = "".join(
    f"def {rule}(**kwargs):\n    native.{rule}(**kwargs)\n\n"
    for rule in ("cc_library", "cc_binary", "cc_test", "cc_import", "cc_proto_library",
                 "cc_toolchain", "cc_toolchain_suite", "fdo_profile", "fdo_prefetch_hints",
                 "objc_library", "objc_import")
)  # fmt: skip
_JAVA_DEFS = "".join(
    f"def {rule}(**kwargs):\n    native.{rule}(**kwargs)\n\n"
    for rule in ("java_import", "java_runtime", "java_toolchain", "java_binary",
                 "java_library", "java_test", "java_plugin", "java_package_configuration",
                 "java_proto_library", "java_lite_proto_library")
)  # fmt: skip
_OFFLINE_REPOS: dict[str, dict[str, str]] = {
    "rules_cc": {"BUILD": "", "cc/BUILD": "", "cc/defs.bzl": _CC_DEFS},
    "rules_java": {"BUILD": "", "java/BUILD": "", "java/defs.bzl": _JAVA_DEFS},
    "remote_coverage_tools": {
        "BUILD": 'package(default_visibility = ["//visibility:public"])\n'
        'filegroup(name = "coverage_report_generator", srcs = [])\n'
        'filegroup(name = "lcov_merger", srcs = [])\n'
    },
}

# Templates instantiated per part (C++11: Bazel 4.2's toolchain passes -std=c++0x): each
# part costs the compiler one to two seconds at -O3.
_PART = """\
#include <algorithm>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensorflow_serving/core/salt_{group}.h"

namespace serving {{

typedef std::map<std::string, std::vector<long>> Table;
typedef std::unordered_map<long, std::string> Names;

template <int N>
struct Step {{
  static long go(Table& table, Names& names) {{
    table[std::to_string(N)].push_back(N + kSalt);
    names[N] = std::to_string(N * {n});
    std::function<long(long)> times = [](long x) {{ return x * N; }};
    std::ostringstream out;
    out << times(N) << names[N];
    std::sort(table[out.str()].begin(), table[out.str()].end());
    return Step<N - 1>::go(table, names) + static_cast<long>(out.str().size());
  }}
}};

template <>
struct Step<0> {{
  static long go(Table&, Names&) {{ return 0; }}
}};

long part_{n}() {{
  Table table;
  Names names;
  long sum = Step<{depth}>::go(table, names);
  return sum;
}}

}}  // namespace serving
"""
_MAIN = """\
#include <cstdio>

#include "tensorflow_serving/core/core.h"

int main() {
  long sum = 0;
%s  std::printf("%%ld\\n", sum);
  return 0;
}
"""
_TEST = """\
#include "tensorflow_serving/core/core.h"

int main() { return serving::part_0() > 0 ? 0 : 1; }
"""
_CORE_BUILD = """\
load("@rules_cc//cc:defs.bzl", "cc_library", "cc_test")

package(default_visibility = ["//visibility:public"])

cc_library(
    name = "core",
    srcs = [%s],
    hdrs = ["core.h", %s],
    linkstatic = True,  # no shared library: nothing to link but the binary and the test
)

cc_test(
    name = "core_test",
    srcs = ["core_test.cc"],
    deps = [":core"],
    linkstatic = True,
)
"""
_SERVER_BUILD = """\
load("@rules_cc//cc:defs.bzl", "cc_binary")

cc_binary(
    name = "tensorflow_model_server",
    srcs = ["main.cc"],
    deps = ["//tensorflow_serving/core"],
)
"""
# Another client's command that holds the output base's lock until the test lets it go:
# it runs outside the sandbox (local) so that it sees the file it waits for.
_HOLD_BUILD = """\
genrule(
    name = "hold",
    outs = ["held.txt"],
    cmd = "touch {marks}/holding; " +
          "for i in $$(seq 1200); do [ -e {marks}/release ] && break; sleep 0.1; done; " +
          "echo held > $@",
    local = True,
)
"""


def write_workspace(
    ws: Path, *, tag: str = "1.8.0", last_file: str = "tools/bazel.rc", parts: int = PARTS
) -> None:
    """The checkout: TF Serving's folders, the git marks the wizard's checks read (the tag the
    stand-in git reports, the clone's last file), the offline repositories and a .bazelrc."""
    offline = ws / "third_party" / "offline"
    for repo, files in _OFFLINE_REPOS.items():
        for rel, text in {"WORKSPACE": f'workspace(name = "{repo}")\n', **files}.items():
            _write(offline / repo / rel, text)
    _write(ws / "WORKSPACE", 'workspace(name = "tf_serving")\n')
    # --force_pic: one compile per source (an opt build otherwise compiles each twice, for
    # the static archive and for the position-independent executable).
    rc = ["build --nosandbox_debug", "build --force_pic"] + [
        f"build --override_repository={repo}={offline / repo}" for repo in _OFFLINE_REPOS
    ]
    _write(ws / ".bazelrc", "\n".join(rc) + "\n")
    core = ws / "tensorflow_serving" / "core"
    sources = ", ".join(f'"part_{n}.cc"' for n in range(parts))
    salts = ", ".join(f'"salt_{g}.h"' for g in range(GROUPS))
    _write(core / "BUILD", _CORE_BUILD % (sources, salts))
    _write(core / "core.h", "namespace serving {\n" + "".join(
        f"long part_{n}();\n" for n in range(parts)) + "}\n")  # fmt: skip
    set_salt(ws, 1)
    for n in range(parts):
        _write(core / f"part_{n}.cc", part_source(n))
    _write(core / "core_test.cc", _TEST)
    _write(ws / "tensorflow_serving" / "model_servers" / "BUILD", _SERVER_BUILD)
    calls = "".join(f"  sum += serving::part_{n}();\n" for n in range(parts))
    _write(ws / "tensorflow_serving" / "model_servers" / "main.cc", _MAIN % calls)
    marks = ws / "lock-marks"
    marks.mkdir(parents=True, exist_ok=True)
    _write(ws / "lock" / "BUILD", _HOLD_BUILD.format(marks=marks))
    _write(ws / ".git" / "fake-tag", tag + "\n")
    _write(ws / last_file, "# the clone's last file\n")


def part_source(n: int, broken: bool = False) -> str:
    """Part ``n``'s source; ``broken``: an undeclared name on BROKEN_LINE (a compile error)."""
    text = _PART.format(n=n, group=n % GROUPS, depth=20 + n % 7)
    return text.replace(_BREAK, "long sum = undeclared_total + Step<") if broken else text


_BREAK = "long sum = Step<"
# Where part_source(n, broken=True) has its error, as the compiler numbers lines.
BROKEN_LINE = next(i for i, line in enumerate(_PART.splitlines(), 1) if _BREAK in line)


def set_salt(ws: Path, salt: int, groups: range = range(GROUPS)) -> None:
    """A new salt for each group of parts: Bazel compiles those parts again (all of them,
    by default: a full rebuild of the library)."""
    for group in groups:
        _write(
            ws / "tensorflow_serving" / "core" / f"salt_{group}.h",
            f"#pragma once\nconstexpr long kSalt = {salt};\n",
        )


def install_wrapper(bin_dir: Path) -> Path:
    """``~admin/bin/bazel``: the real Bazel with the machine's tools on PATH."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / "bazel"
    path.write_text(f'#!/bin/sh\nPATH={SYSTEM_PATH}\nexport PATH\nexec {REAL_BAZEL} "$@"\n')
    path.chmod(0o755)
    return path


def missing() -> str | None:
    """Why the real Bazel cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root, as CI runs it (the sandbox's admin is root's stand-in sudo)"
    if not REAL_BAZEL.exists():
        return "no real Bazel: apt-get install bazel-bootstrap (Debian 12's Bazel 4.2.3)"
    for tool in ("gcc", "g++"):
        if shutil.which(tool, path=SYSTEM_PATH) is None:
            return f"no {tool}: apt-get install build-essential"
    return None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
