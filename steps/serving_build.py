"""TensorFlow Serving built from source: which tag, with which Bazel, and how Bazel is told
to stay within the machine. A table per tag, read from the tag itself in
github.com/tensorflow/serving; nothing here runs anything.

Sources, beside the data they gave:
- The Bazel version of a tag: no tag up to 2.20.0 has a ``.bazelversion`` file (`git show
  TAG:.bazelversion` fails for each); each one's
  ``tensorflow_serving/tools/docker/Dockerfile.devel`` pins it with ``ENV BAZEL_VERSION X``
  and installs ``bazel-X-installer-linux-x86_64.sh`` from github.com/bazelbuild/bazel/
  releases. The commit of each tag is beside it.
- The installer's user mode (``--user``: ``$HOME/bin`` and ``$HOME/.bazel``) is Bazel's
  documented install on Linux from 0.x to 8.x (docs.bazel.build/versions/1.2.0/
  install-ubuntu.html "Installing using binary installer"; bazel.build/versions/8.1.1/
  install/ubuntu, "binary installer ... if you don't have admin access"); it needs
  ``unzip`` ("unzip not found, please install the corresponding package", exit 1:
  bazelbuild/bazel scripts/packages/template_bin.sh).
- The targets: every tag's ``tensorflow_serving/g3doc/setup.md`` builds with ``bazel build
  -c opt tensorflow_serving/...`` (the tutorial's command; 2.20.0's setup.md still says so)
  and takes the same ``--copt=-mavx`` ... table of CPU flags; the binary is
  ``bazel-bin/tensorflow_serving/model_servers/tensorflow_model_server`` in all of them.
- The checkout: TensorFlow stopped being a submodule in February 2018 ("Remove tensorflow
  and tf_models as submodules now that they're linked as bazel rules", 2c450d29), before
  1.8.0: Bazel downloads it (``tensorflow_http_archive`` in WORKSPACE). git checks files out
  in index order, so the last file of a clone is the last path under ``tools/``
  (`git ls-tree -r --name-only TAG`).
- Capping Bazel: ``--local_resources=RAM,CPU,IO`` is Bazel 0.x's flag, removed in Bazel 3.0
  (github.com/bazelbuild/bazel/issues/10536); TF Serving's docs moved to
  ``--local_ram_resources=2048`` in July 2019 (a1d2c09c, building_with_docker.md), when its
  Dockerfile.devel pinned Bazel 0.24.1. ``--local_cpu_resources`` came with it; both still
  work in Bazel 7 (deprecated in favour of ``--local_resources=memory=`` from 7.1,
  bazelbuild/bazel#21331).
- What the build needs, measured by the preflight before it starts (steps/core/preflight.py has
  the figures and their sources: 8 GB of RAM available plus swap, 20 GB for Bazel's output
  base): TF Serving's own guidance gives no minimum for any tag, only "Building from sources
  consumes a lot of RAM" and ``--local_ram_resources=2048`` to cap it (building_with_docker.md,
  1.15.0 to 2.20.0), and the tutorial its "2 to 4 hours". The same figures hold for every
  tag: the TensorFlow each one downloads has only grown since 1.8.0, so they are a floor.
"""

from __future__ import annotations

from dataclasses import dataclass

TUTORIAL_BAZEL = "0.11.1"


@dataclass(frozen=True)
class ServingTag:
    bazel: str
    commit: str  # the tag's commit in github.com/tensorflow/serving
    last_file: str = "tools/run_in_docker.sh"  # what a clone writes last


TAGS: dict[str, ServingTag] = {
    "1.8.0": ServingTag(TUTORIAL_BAZEL, "d908ef169a085424850f6015b0e405cfa3476098",
                        "tools/bazel.rc"),
    "1.15.0": ServingTag("0.24.1", "748217e48b006cb0d8d87d362bce88cd5f292a73"),
    "2.6.2": ServingTag("3.7.2", "cc2f8d4a77dbb469e438286a0958cc4ba7235521"),
    "2.11.1": ServingTag("5.1.1", "3c50b8fd3ca7eb71ba46ca73e7dcb4a21ea67fd4"),
    "2.13.1": ServingTag("5.3.0", "ae482b9dd12bf8dde38dd91a384a85f96a5fc09c"),
    "2.14.1": ServingTag("6.1.0", "f8addc3218294e8165f53250525dd800a8592032"),
    "2.15.1": ServingTag("6.4.0", "a0be2bf6ebf690a01dbe9747910952422be55945"),
    "2.16.1": ServingTag("6.4.0", "0d726954f36a2b6c6bfb60a4caec311f2b3e3101"),
    "2.17.1": ServingTag("6.4.0", "7b6021dd4cc6c1a815a84f160b77438c84818a66"),
    "2.18.1": ServingTag("6.5.0", "d09ca091bd48231e62e2d979073867b062bedee4"),
    "2.19.1": ServingTag("6.5.0", "eab9c3529b785dc685ab8c687f298e67016c8f81"),
    "2.20.0": ServingTag("7.4.1", "bc7e9d2b9a419294c4526e293c2df8727b0d3116"),
}  # fmt: skip
# The tutorial's pin on its Python 2.7 routes: 1.8.0 is the last tag built with Bazel 0.11.1,
# and TF 1.x's models are what its model server loads.
PINNED = {"2.7": "1.8.0"}
# A Bazel this old takes the three-number --local_resources; newer ones the named flags.
_NAMED_FLAGS_FROM = (0, 24)


class UnknownTag(ValueError):
    """A serving.ref the table does not know: one sentence naming the tags it knows."""


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def default_tag(python: str, tf_version: str) -> str:
    """The tag of the route's TensorFlow / serving API version; where TF Serving has no such
    tag (2.21.0 has a PyPI release but no tag), the newest one before it, else the oldest."""
    if python in PINNED:
        return PINNED[python]
    if tf_version in TAGS:
        return tf_version
    wanted = _version(tf_version)
    older = [t for t in TAGS if _version(t) <= wanted]
    return max(older, key=_version) if older else min(TAGS, key=_version)


def known_tags() -> str:
    return ", ".join(sorted(TAGS, key=_version))


def resolve(
    ref: str | None, bazel: str | None, python: str, tf_version: str
) -> tuple[str, str, str]:
    """(tag, Bazel version, the checkout's last file) for the build. ``ref`` / ``bazel``: the
    admin's serving.ref / serving.bazel_version when set, else None."""
    tag = ref or default_tag(python, tf_version)
    row = TAGS.get(tag)
    if row is None and bazel is None:
        raise UnknownTag(
            f"serving.ref = {tag!r} is not a TF Serving tag whose Bazel version emlsetup knows: "
            f"choose one of {known_tags()}, or set serving.bazel_version too"
        )
    return tag, bazel or (row.bazel if row else ""), row.last_file if row else "WORKSPACE"


def named_resource_flags(bazel: str) -> bool:
    return _version(bazel)[:2] >= _NAMED_FLAGS_FROM


def resource_flags(bazel: str, ram_mb: int, cpus: int, jobs: int) -> list[str]:
    """Bazel's cap on RAM and cores, in the words of that Bazel version."""
    if named_resource_flags(bazel):
        return [f"--local_ram_resources={ram_mb}", f"--local_cpu_resources={cpus}",
                f"--jobs={jobs}"]  # fmt: skip
    return [f"--local_resources={ram_mb},{float(cpus):.1f},1.0", f"--jobs={jobs}"]
