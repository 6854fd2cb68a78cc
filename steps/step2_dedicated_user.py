"""Tutorial step 2: a dedicated TensorFlow Serving administrator with sudo rights."""

from checks.spec import PasswordSet, SudoersGrant, UserExists
from steps.core.model import Command, Manual, Step, WriteFile

SUDO_RULE = "{admin} ALL=(ALL) NOPASSWD: ALL"

STEP = Step(
    number=2,
    title="Create a dedicated user",
    explanation="""\
A dedicated user, **{admin}**, runs the TensorFlow work so that nothing disturbs
`{sid_adm}`, the user that runs SAP HANA. The tutorial creates it with a home directory,
gives it a password, and lets it use `sudo` without a password for the installation.""",
    corrections=[
        "The tutorial appends to /etc/sudoers with `echo >>`: one typo there locks every admin "
        "out of sudo. The wizard writes the rule to /etc/sudoers.d/{admin} (mode 0440) and "
        "moves it into place only after `visudo -cf` accepts it.",
        "The wizard never handles the user's password: set it yourself with `sudo passwd "
        "{admin}` (only needed to log in as {admin}; the wizard uses sudo).",
    ],
    # An existing account with uid 0 would make every command "as the admin" run as root:
    # the step stops before it relies on it.
    checks=[
        UserExists(
            name="{admin} is not a second root account",
            user="{admin}",
            absent_ok=True,
        )
    ],
    actions=[
        Command(
            id="useradd",
            title="Create the user {admin}",
            argv=["useradd", "-m", "-d", "{home}", "-c", "TensorFlow Administrator", "{admin}"],
            done_when=[UserExists(name="user {admin} exists", user="{admin}")],
        ),
        Manual(
            id="passwd",
            title="Set a password for {admin} (optional)",
            instruction="sudo passwd {admin}",
            done_when=[PasswordSet(name="{admin} has a password", user="{admin}")],
        ),
        WriteFile(
            id="sudoers",
            title="Let {admin} use sudo",
            path="/etc/sudoers.d/{admin}",
            content=SUDO_RULE + "\n",
            mode=0o440,
            validate_argv=["visudo", "-cf", "{file}"],
            done_when=[SudoersGrant(name="sudo rule for {admin}", rule=SUDO_RULE)],
        ),
    ],
    results=[
        UserExists(name="user {admin} exists", user="{admin}", fix="create it: useradd -m {admin}"),
        SudoersGrant(
            name="sudo rule for {admin}",
            rule=SUDO_RULE,
            fix="add '" + SUDO_RULE + "' to /etc/sudoers.d/{admin} with visudo",
        ),
    ],
)
