"""The seven steps of the tutorial, in order, each with how `emlsetup undo` reverses it."""

from steps import (
    step1_hana_packages,
    step2_dedicated_user,
    step3_dependencies,
    step4_python_prereqs,
    step5_tensorflow_serving,
    step6_start_serving,
    step7_configure_eml,
    undo_hana,
    undo_system,
)
from steps.core.model import Step

_UNDO = {**undo_system.UNDO, **undo_hana.UNDO}
STEPS: tuple[Step, ...] = tuple(
    m.STEP.model_copy(update={"undo": _UNDO.get(m.STEP.number, [])})
    for m in (
        step1_hana_packages,
        step2_dedicated_user,
        step3_dependencies,
        step4_python_prereqs,
        step5_tensorflow_serving,
        step6_start_serving,
        step7_configure_eml,
    )
)
