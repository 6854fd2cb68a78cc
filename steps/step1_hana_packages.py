"""Tutorial step 1: the SAP HANA packages EML needs, and freeing memory afterwards."""

from checks.spec import PathExists, SqlCount
from steps.core.model import Command, Step

_AFL_FIX = (
    "install the SAP HANA External Machine Learning AFL package (eml.tgz) with the HXE "
    "Download Manager in {hxe_bin}, as the tutorial 'Install the SAP HANA External Machine "
    "Learning Library Package' describes"
)


def _afl(view: str, rows: int) -> SqlCount:
    return SqlCount(
        name=f"{view} rows for AREA_NAME = 'EML'",
        role="system",
        query=f'SELECT * FROM "SYS"."{view}" WHERE AREA_NAME = \'EML\'',
        expect=rows,
        fix=_AFL_FIX,
    )


STEP = Step(
    number=1,
    title="Install SAP HANA required packages",
    explanation="""\
TensorFlow integration is an **Application Function Library** (AFL): the *EML AFL* is
TensorFlow Serving's client inside SAP HANA. Install the **SAP HANA HDB client** and the
**EML AFL package** with the Download Manager (`/usr/sap/HXE/home/bin/`), then confirm
the install from the catalogue as SYSTEM on the HXE tenant:
`AFL_AREAS` and `AFL_PACKAGES` return 1 row each, `AFL_FUNCTIONS` returns 6.

Afterwards the tutorial recommends the **memory management script** `hxe_gc.sh`, run as
`hxeadm`, to release unused resources.""",
    corrections=[
        "The package downloads are done by you with the Download Manager (they need your SAP "
        "account); the wizard checks their result in the catalogue.",
        "hxe_gc.sh runs only where it exists (the HXE VM), as {sid_adm} in its login "
        "environment like the tutorial's `sudo su -l {sid_adm}`, and no login shell is left "
        "open. It asks for the SYSTEM password: the wizard answers through a pipe with the one "
        "it holds (typed, or EMLSETUP_SYSTEM_PASSWORD), never on a command line, in the "
        "environment or in a file; with only an hdbuserstore key it asks you in the wizard, "
        "and a headless run skips this optional clean-up and says how to run it by hand.",
    ],
    checks=[_afl("AFL_AREAS", 1), _afl("AFL_PACKAGES", 1), _afl("AFL_FUNCTIONS", 6)],
    actions=[
        Command(
            id="hxe-gc",
            title="Run the memory management script",
            argv=["{hxe_bin}/hxe_gc.sh"],
            cwd="{hxe_bin}",
            run_as="sid_adm",
            login=True,
            stdin_secret="system_password",
            only_if=[PathExists(name="hxe_gc.sh present", path="{hxe_bin}/hxe_gc.sh")],
            idempotent=True,
            # Nothing the wizard does changes what it frees: once, then on request only.
            rerun_after=[],
        ),
    ],
)
