"""Pure parsers on real samples: versions, /proc, passwd, shadow, sudoers, output tails."""

from __future__ import annotations

from pathlib import Path

from checks.hardware import parse_cpu_count, parse_cpu_flags, parse_mem_total_mb
from checks.host import Host
from checks.system import find_sudoers_rule, parse_passwd, password_state
from checks.versions import extract_version, satisfies
from steps.core.output import Tail, error_line, meaningful_tail, redact

FIXTURES = Path(__file__).parent / "fixtures" / "bazel"

PIP_OLD = "pip 8.1.1 from /home/tmsadm/tms/lib/python2.7/site-packages (python 2.7)\n"
PIP_OK = "pip 9.0.1 from /home/tmsadm/tms/lib/python2.7/site-packages (python 2.7)\n"
BAZEL_0_11_1 = (
    "Build label: 0.11.1\n"
    "Build target: bazel-out/k8-opt/bin/src/main/java/com/google/devtools/build/lib/bazel/"
    "BazelServer_deploy.jar\nBuild time: Tue Mar 6 14:16:15 2018 (1520345775)\n"
)
PIP_RE = r"^pip (?P<v>[0-9][0-9.]*)"
BAZEL_RE = r"^Build label: (?P<v>\S+)"


def test_pip_minimum_is_9_0_1() -> None:
    assert extract_version(PIP_OK, PIP_RE) == "9.0.1"
    assert satisfies("9.0.1", ">=", "9.0.1")
    assert satisfies("20.3.4", ">=", "9.0.1")
    assert satisfies("10", ">=", "9.0.1")
    assert not satisfies(extract_version(PIP_OLD, PIP_RE) or "", ">=", "9.0.1")


def test_bazel_version_is_compared_exactly() -> None:
    assert extract_version(BAZEL_0_11_1, BAZEL_RE) == "0.11.1"
    assert satisfies("0.11.1", "==", "0.11.1")
    for other in ("0.11.10", "0.11.1rc1", "0.12.0", "4.2.3"):
        assert not satisfies(other, "==", "0.11.1")


def test_cpu_flags_are_those_every_core_has() -> None:
    info = (
        "processor\t: 0\nflags\t\t: fpu sse4_1 sse4_2 avx avx2 fma\n\n"
        "processor\t: 1\nflags\t\t: fpu sse4_1 sse4_2 avx\n"
    )
    assert parse_cpu_flags(info) == {"sse4.1", "sse4.2", "avx"}
    assert parse_cpu_count(info) == 2
    assert parse_cpu_flags("") == set()
    assert parse_mem_total_mb("MemTotal:       16318480 kB\nMemFree: 1 kB\n") == 15936


def test_passwd_and_shadow(tmp_path: Path) -> None:
    users = parse_passwd(
        "root:x:0:0:root:/root:/bin/bash\n"
        "tmsadm:x:1002:100:TensorFlow Administrator:/home/tmsadm:/bin/bash\n"
    )
    assert users["tmsadm"].uid == 1002 and users["tmsadm"].home == "/home/tmsadm"
    shadow = tmp_path / "shadow"
    shadow.write_text("tmsadm:!:17000::::::\nhxeadm:$6$salt$hash:17000::::::\n")
    assert password_state(shadow, "tmsadm") is False
    assert password_state(shadow, "hxeadm") is True
    assert password_state(shadow, "nobody") is False


def test_sudoers_rule_found_wherever_the_admin_put_it(tmp_path: Path) -> None:
    main, drop = tmp_path / "sudoers", tmp_path / "sudoers.d"
    drop.mkdir()
    main.write_text("root ALL=(ALL) ALL\n#includedir /etc/sudoers.d\n")
    rule = "tmsadm ALL=(ALL) NOPASSWD: ALL"
    assert find_sudoers_rule(main, drop, rule) is False
    (drop / "tmsadm.rpmsave").write_text(rule + "\n")  # sudo ignores names with a dot
    assert find_sudoers_rule(main, drop, rule) is False
    main.write_text(main.read_text() + "tmsadm   ALL=(ALL)   NOPASSWD: ALL\n")  # by hand
    assert find_sudoers_rule(main, drop, rule) == main


def test_tail_keeps_the_error_and_drops_noise() -> None:
    lines = [
        "Loading: 0 packages loaded",
        "[12 / 30] Compiling a.cc",
        "",
        "ERROR: /home/tmsadm/serving/x/BUILD:1:10: Compiling x.cc failed",
        *[f"INFO: summary {i}" for i in range(10)],
    ]
    tail = meaningful_tail(lines, limit=4)
    assert tail[0].startswith("ERROR:") and len(tail) == 4
    assert all("[12 / 30]" not in x for x in meaningful_tail(lines, limit=20))


def test_a_failure_is_quoted_by_the_line_that_says_what_went_wrong() -> None:
    # Bazel's installer without unzip (bazelbuild/bazel scripts/packages/template_bin.sh):
    # its last line is the end of a sentence, not the reason.
    installer = [
        "Bazel installer",
        "---------------",
        "",
        "unzip not found, please install the corresponding package.",
        "See http://bazel.build/docs/install.html for more information on",
        "dependencies of Bazel.",
    ]
    assert error_line(installer) == "unzip not found, please install the corresponding package."
    # A real failed build (tests/fixtures/bazel/04-compile-error) ends with its verdict.
    raw = (FIXTURES / "04-compile-error.stderr.raw").read_text(errors="replace")
    build = raw.replace("\r", "\n").splitlines()
    assert error_line(build) == "FAILED: Build did NOT complete successfully"
    # Output with no error word is quoted by its last line, as before.
    apt = ["Reading package lists...", "E: Package 'x' has no installation candidate"]
    assert error_line(apt) == apt[-1]
    assert error_line(["one", "two", ""]) == "two"
    assert error_line([]) == ""


def test_credentials_in_output_are_redacted() -> None:
    assert (
        redact("connecting with password=Manager1 now") == "connecting with password=[redacted] now"
    )
    assert "s3cret" not in redact("TOKEN: s3cret")
    assert redact("no secrets here") == "no secrets here"


def test_output_tail_keeps_whole_last_lines_of_any_volume() -> None:
    """What the build screen and a failure report show of hours of output: the last lines,
    never a line cut in half where older output was dropped."""
    tail = Tail(64)
    tail.add(b"one\ntwo\n")
    assert tail.lines() == ["one", "two"]
    for i in range(1000):
        tail.add(f"warning {i}: unused variable\n".encode())
    tail.add(b"[9 / 9] Linking\nno newline yet")
    assert tail.lines() == ["warning 999: unused variable", "[9 / 9] Linking", "no newline yet"]
    assert tail.lines(limit=1) == ["no newline yet"]
    assert len(tail.data) <= 64
    big = Tail(64)
    big.add(b"x" * 100 + b"\nlast\n")
    assert big.lines() == ["last"]


def test_a_target_path_with_two_leading_slashes_stays_inside_the_root(tmp_path: Path) -> None:
    # POSIX lets "//x" mean something else than "/x"; pathlib keeps both slashes as its root,
    # so a setting that ends in "//config.cnf" crashed the sandbox mapping (exit 70).
    host = Host(root=tmp_path)
    assert host.path("//etc/config.cnf") == tmp_path / "etc" / "config.cnf"
    assert host.path("/etc/config.cnf") == tmp_path / "etc" / "config.cnf"
