"""The seven steps of the tutorial, in order."""

from steps import (
    step1_hana_packages,
    step2_dedicated_user,
    step3_dependencies,
    step4_python_prereqs,
    step5_tensorflow_serving,
    step6_start_serving,
    step7_configure_eml,
)
from steps.core.model import Step

STEPS: tuple[Step, ...] = tuple(
    m.STEP
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
