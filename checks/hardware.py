"""CPU instruction sets and memory, read from /proc under the root (pure parsers + readers)."""

from __future__ import annotations

from pathlib import Path

# cpuinfo spells them with underscores; GCC's -m flags with dots.
_CPUINFO_NAMES = {
    "sse4_1": "sse4.1",
    "sse4_2": "sse4.2",
    "avx": "avx",
    "avx2": "avx2",
    "fma": "fma",
}


def parse_cpu_flags(cpuinfo: str) -> set[str]:
    """The optimisation flags every listed processor supports."""
    per_cpu: list[set[str]] = []
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            per_cpu.append({_CPUINFO_NAMES[f] for f in value.split() if f in _CPUINFO_NAMES})
    return set.intersection(*per_cpu) if per_cpu else set()


def parse_cpu_count(cpuinfo: str) -> int:
    return sum(1 for line in cpuinfo.splitlines() if line.split(":")[0].strip() == "processor") or 1


def parse_mem_total_mb(meminfo: str) -> int | None:
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return None


def _read(root: Path, name: str) -> str:
    try:
        return (root / "proc" / name).read_text(errors="replace")
    except OSError:
        return ""


def cpu_flags(root: Path) -> set[str]:
    return parse_cpu_flags(_read(root, "cpuinfo"))


def cpu_count(root: Path) -> int:
    return parse_cpu_count(_read(root, "cpuinfo"))


def mem_total_mb(root: Path) -> int | None:
    return parse_mem_total_mb(_read(root, "meminfo"))
