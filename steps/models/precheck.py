"""Everything `model add` checks before it changes anything: the SavedModel, its signature
and what HANA's EML can take of it, the model server that would load it, the version
policy, the name, and the ML user's right to create the wrapper. Each refusal is one
sentence; nothing is copied, written or registered before all of them passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from steps.core.session import Session
from steps.models import config_text as ct
from steps.models import hana_sql as hs
from steps.models import wrapper
from steps.models.commands import ModelOps, choose_signature
from steps.models.errors import ModelError
from steps.models.hana_types import Layout, hana_sps, layout
from steps.models.savedmodel import (
    SavedModelError,
    SavedModelInfo,
    Signature,
    layout_problem,
    read_savedmodel,
)


@dataclass(frozen=True)
class Checked:
    info: SavedModelInfo
    signature: Signature
    layout: Layout


def serving_version(session: Session) -> str | None:
    """The TF Serving version this server runs, from its route and settings (not the whole
    plan): the built tag, or the container image's; None when the route does not tell (the
    apt package)."""
    from steps.core.plan import _build_tag  # the plan's own choice of tag
    from steps.routes import RouteError, route_of, values

    settings, s = session.settings, session.settings.serving
    try:
        route, python = route_of(session.distro)
        found = values(
            route, python, settings.expand(s.venv), settings.expand(s.export_dir),
            str(s.port), s.route, settings.expand(s.checkout),
        )  # fmt: skip
        if found["serving_route"] == "build":
            return _build_tag(settings, python, found)[0]
    except (RouteError, ValueError, KeyError):
        return None
    if found["serving_route"] == "container":
        return str(found["serving_image"]).rsplit(":", 1)[-1]
    return None


def _major(version: str) -> int | None:
    head = version.split(".", 1)[0].lstrip("v")
    return int(head) if head.isdigit() else None


def savedmodel(ops: ModelOps, name: str, source: Path, wanted: str) -> Checked:
    """The SavedModel in ``source`` as EML would call it."""
    problem = layout_problem(source)
    if problem:
        raise SavedModelError(problem)
    info = read_savedmodel(source)
    sig = choose_signature(info.signatures, name, wanted)
    if hs.check_signature(sig.name):
        raise ModelError(hs.check_signature(sig.name))
    lay = layout(sig)
    served = serving_version(ops.session)
    model_major, served_major = _major(info.tensorflow_version), _major(served or "")
    if info.tf2 and model_major and model_major >= 2 and served_major == 1:
        raise ModelError(
            f"{source} is a TensorFlow {model_major} SavedModel (tf.saved_model.save, "
            f"tensorflow_version {info.tensorflow_version}); the TensorFlow Serving "
            f"{served} this server runs cannot load it (TF2 graphs call functions through ops "
            "such as StatefulPartitionedCall that 1.x does not have): export it with "
            "TensorFlow 1.x's SavedModelBuilder, or serve it with a TF Serving 2 route"
        )
    return Checked(info, sig, lay)


def version(ops: ModelOps, name: str, number: int) -> None:
    """TF Serving serves the highest version folder only: a lower one would never answer."""
    folder = ops.local(f"{ops.export}/{name}")
    present = (
        sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())
        if folder.is_dir()
        else []
    )
    if present and present[-1] > number:
        raise ModelError(
            f"{name} has version {present[-1]} in {ops.shown(folder)}: TF Serving serves only "
            "the highest version (its default version policy, latest with num_versions 1), "
            f"so version {number} would never answer; give --version {present[-1] + 1} or more"
        )


def case_twin(ops: ModelOps, name: str) -> str | None:
    """Another model whose name differs from ``name`` in case only, if there is one."""
    twins = [e.name for e in ops.entries() if e.name != name and e.name.upper() == name.upper()]
    if ops.sql is not None:
        twins += [m for m in ops.hana_models() if m != name and m.upper() == name.upper()]
        owner = wrapper.existing(ops, hs.Objects(name)).owner
        if owner and owner != name:
            twins.append(owner)
    return twins[0] if twins else None


def name_free(ops: ModelOps, name: str, target: str) -> None:
    twin = case_twin(ops, name)
    obj = hs.Objects(name)
    if twin:
        raise ModelError(
            f"model {twin} is here already and {name} differs from it in case only: HANA's "
            f"objects ({hs.SCHEMA}.{obj.procedure}, {obj.params_table}, ...) are upper case, so "
            f"they would be shared; choose another name"
        )
    if ops.config_file.exists():
        ct.add_model(ops.config_file.read_text(), name, target)  # another folder: a sentence


def hana(ops: ModelOps, lay: Layout) -> None:
    """The ML user may create the wrapper, and this HANA takes the layout's dtypes."""
    user = ops.session.settings.hana.ml_user
    if not ops.count(hs.HAS_ROLE, user, hs.CREATOR_ERASER_ROLE):
        raise ModelError(
            f"{user} does not have the role {hs.CREATOR_ERASER_ROLE}, which creating the "
            "PREDICT wrapper needs (SAP's tutorial mlb-hxe-setup-basic grants it): run step "
            f"7 again (emlsetup run --only-step 7), or as SYSTEM: GRANT "
            f"{hs.CREATOR_ERASER_ROLE} TO {user}"
        )
    if lay.needs_sps:
        rows = ops.query(hs.HANA_VERSION)
        sps = hana_sps(str(rows[0][0])) if rows else None
        if sps is not None and sps < lay.needs_sps:
            raise ModelError(
                f"this HANA is {rows[0][0]} (SPS0{sps}); EML takes DT_INT64 tensors from "
                f"SPS0{lay.needs_sps} on: cast them to float in the model's signature, as "
                "SAP's pre-SPS03 Iris export script does, or update HANA"
            )
