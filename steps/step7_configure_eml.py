"""Tutorial step 7: grants, the remote source, and EML's configuration reload, in SQL.

Every CREATE is preceded by a catalogue lookup (its done_when), so re-running the step on a
configured system changes nothing: the tutorial's commented-out DROP lines are never needed.
"""

from typing import Literal

from checks.spec import SqlCount
from steps.core.model import Sql, Step

ROLE = "AFL__SYS_AFL_EML_EXECUTE"
# Creating and dropping AFL wrapper procedures (each model's PREDICT wrapper) needs it; SAP's
# "Prepare your SAP HANA, express edition instance for Machine Learning" (sap-tutorials
# mlb-hxe-setup-basic, step 4) grants it to ML_USER as SYSTEM.
CREATOR_ROLE = "AFLPM_CREATOR_ERASER_EXECUTE"
PROCEDURE = """\
CREATE PROCEDURE UPDATE_CONFIGURATION() AS
BEGIN
    DECLARE CURSOR CUR FOR
        SELECT VOLUME_ID FROM SYS.M_VOLUMES WHERE SERVICE_NAME = 'indexserver';
    FOR CUR_ROW AS CUR DO
        EXEC 'CALL _SYS_AFL.EML_CTL_PROC(''UpdateModelConfiguration'', UPDATE_CONFIGURATION_PARAMS, UPDATE_CONFIGURATION_RESULT)'
            || ' WITH OVERVIEW WITH HINT(ROUTE_TO(' || :CUR_ROW.VOLUME_ID || '))';
    END FOR;
END"""
_SET = "SET SCHEMA EML_DATA"


def _count(
    name: str,
    role: Literal["system", "ml_user"],
    query: str,
    *params: str,
    expect: int = 1,
    fix: str = "",
) -> SqlCount:
    return SqlCount(
        name=name,
        role=role,
        query=query,
        params=list(params),
        count_column=True,
        op=">=",
        expect=expect,
        fix=fix,
    )


def _table(table: str) -> SqlCount:
    return _count(
        f"table EML_DATA.{table} exists",
        "ml_user",
        'SELECT COUNT(*) FROM "SYS"."TABLES" WHERE SCHEMA_NAME = ? AND TABLE_NAME = ?',
        "EML_DATA",
        table,
    )


ROLE_GRANTED = _count(
    "{ml_user} has role " + ROLE,
    "system",
    'SELECT COUNT(*) FROM "SYS"."GRANTED_ROLES" WHERE GRANTEE = ? AND ROLE_NAME = ?',
    "{ml_user}",
    ROLE,
    fix="as SYSTEM: GRANT " + ROLE + " TO {ml_user}",
)
CREATOR_ROLE_GRANTED = _count(
    "{ml_user} has role " + CREATOR_ROLE,
    "system",
    'SELECT COUNT(*) FROM "SYS"."GRANTED_ROLES" WHERE GRANTEE = ? AND ROLE_NAME = ?',
    "{ml_user}",
    CREATOR_ROLE,
    fix="as SYSTEM: GRANT " + CREATOR_ROLE + " TO {ml_user}",
)
REMOTE_SOURCE = _count(
    'remote source "TensorFlow" exists',
    "ml_user",
    'SELECT COUNT(*) FROM "SYS"."REMOTE_SOURCES" WHERE REMOTE_SOURCE_NAME = ?',
    "TensorFlow",
    fix='as {ml_user}: CREATE REMOTE SOURCE "TensorFlow" ADAPTER "grpc" '
    "CONFIGURATION 'server={serving_host};port={port}'",
)

RELOAD_OK = _count(
    "UPDATE_CONFIGURATION answered Status 0 OK",
    "ml_user",
    'SELECT COUNT(*) FROM "EML_DATA"."UPDATE_CONFIGURATION_RESULT" WHERE "Key" = ? AND '
    '"Value" = 0 AND "Text" = ?',
    "Status",
    "OK",
    fix="check that the model server answers on {serving_host}:{port} (step 6), then re-run "
    "step 7: CALL EML_DATA.UPDATE_CONFIGURATION()",
)

# Step 7's prerequisites, each read from the tenant's catalogue as SYSTEM before any
# statement (SAP HANA SQL reference, system views M_SERVICES, USERS, EFFECTIVE_PRIVILEGES;
# the script server is added as in SAP's tutorial "Prepare your SAP HANA, express edition
# instance for Machine Learning": ALTER DATABASE HXE ADD 'scriptserver', then
# SELECT * FROM SYS.M_SERVICES on the tenant).
SCRIPT_SERVER = _count(
    "the script server runs on {tenant}",
    "system",
    'SELECT COUNT(*) FROM "SYS"."M_SERVICES" WHERE SERVICE_NAME = ? AND ACTIVE_STATUS = ?',
    "scriptserver",
    "YES",
    fix="as {system_user} on the system database (SYSTEMDB): ALTER DATABASE {tenant} ADD "
    "'scriptserver'; without it every EML call fails with HANA error 2048",
)
ML_USER_EXISTS = _count(
    "user {ml_user} exists",
    "system",
    'SELECT COUNT(*) FROM "SYS"."USERS" WHERE USER_NAME = ?',
    "{ml_user}",
    fix="as {system_user}: CREATE USER {ml_user} PASSWORD <password> NO FORCE_FIRST_PASSWORD_"
    "CHANGE (SAP's tutorial 'Prepare your SAP HANA, express edition instance for Machine "
    "Learning'), or set hana.ml_user to the user you have",
)
SYSTEM_MAY_GRANT = _count(
    "{system_user} may grant roles (ROLE ADMIN)",
    "system",
    'SELECT COUNT(*) FROM "SYS"."EFFECTIVE_PRIVILEGES" WHERE USER_NAME = ? AND '
    "OBJECT_TYPE = ? AND PRIVILEGE = ?",
    "{system_user}",
    "SYSTEMPRIVILEGE",
    "ROLE ADMIN",
    fix="connect as a user that holds ROLE ADMIN (SYSTEM has it on a new HXE): set "
    "hana.system_user, or as such a user: GRANT ROLE ADMIN TO {system_user}",
)

STEP = Step(
    number=7,
    title="Configure SAP HANA External Machine Learning",
    explanation="""\
Tell SAP HANA where the model server is. As **SYSTEM**, grant `{ml_user}` the roles
`AFL__SYS_AFL_EML_EXECUTE` and `AFLPM_CREATOR_ERASER_EXECUTE` (it creates the models' PREDICT
wrappers) and write access to `_SYS_AFL.EML_MODEL_CONFIGURATION`. As
**{ml_user}**, create the remote source `"TensorFlow"` (adapter `grpc`,
`server={serving_host};port={port}`), then reload EML's configuration, which is read only
at start-up: the procedure `EML_DATA.UPDATE_CONFIGURATION` calls
`_SYS_AFL.EML_CTL_PROC('UpdateModelConfiguration', ...)` on every indexserver volume and
must return **Status 0 OK**. Finally `EML_CHECKDESTINATION_PROC` is called: its answer is
shown for information (SAP publishes its layout, not its content); a model is proven by a
PREDICT call (`emlsetup model add`).

The Script Server must be enabled on the tenant.""",
    corrections=[
        "Each object is looked up in the catalogue before it is created, so re-running is "
        "safe and the tutorial's DROP lines are never needed.",
        "The ('Model', '*') row is inserted into CHECK_PARAMS only when missing: re-running "
        "the tutorial's script adds a duplicate row every time.",
        "The remote source's host and port come from your settings ({serving_host}:{port}).",
        "The tutorial's ML user is made by SAP's ML setup tutorial, which grants "
        "AFLPM_CREATOR_ERASER_EXECUTE; step 7 grants it too, so emlsetup model add can "
        "create a model's PREDICT wrapper.",
    ],
    checks=[SCRIPT_SERVER, ML_USER_EXISTS, SYSTEM_MAY_GRANT],
    actions=[
        Sql(
            id="grant-role",
            title="Grant " + ROLE + " to {ml_user}",
            role="system",
            statements=["GRANT " + ROLE + " TO {ml_user}"],
            done_when=[ROLE_GRANTED],
        ),
        Sql(
            id="grant-creator-role",
            title="Grant " + CREATOR_ROLE + " to {ml_user}",
            role="system",
            statements=["GRANT " + CREATOR_ROLE + " TO {ml_user}"],
            done_when=[CREATOR_ROLE_GRANTED],
        ),
        Sql(
            id="grant-config",
            title="Grant access to EML_MODEL_CONFIGURATION",
            role="system",
            statements=[
                "GRANT SELECT, UPDATE, DELETE, INSERT ON  _SYS_AFL.EML_MODEL_CONFIGURATION"
                " TO {ml_user}"
            ],
            done_when=[
                _count(
                    "{ml_user} may change EML_MODEL_CONFIGURATION",
                    "system",
                    'SELECT COUNT(*) FROM "SYS"."GRANTED_PRIVILEGES" WHERE GRANTEE = ? AND '
                    "SCHEMA_NAME = ? AND OBJECT_NAME = ? AND PRIVILEGE IN "
                    "('SELECT', 'UPDATE', 'DELETE', 'INSERT')",
                    "{ml_user}",
                    "_SYS_AFL",
                    "EML_MODEL_CONFIGURATION",
                    expect=4,
                )
            ],
        ),
        Sql(
            id="remote-source",
            title='Create the remote source "TensorFlow"',
            role="ml_user",
            statements=[
                'CREATE REMOTE SOURCE "TensorFlow" ADAPTER "grpc" '
                "CONFIGURATION 'server={serving_host};port={port}'"
            ],
            done_when=[REMOTE_SOURCE],
        ),
        Sql(
            id="schema",
            title="Create the schema EML_DATA",
            role="ml_user",
            statements=["CREATE SCHEMA EML_DATA"],
            done_when=[
                _count(
                    "schema EML_DATA exists",
                    "ml_user",
                    'SELECT COUNT(*) FROM "SYS"."SCHEMAS" WHERE SCHEMA_NAME = ?',
                    "EML_DATA",
                )
            ],
        ),
        Sql(
            id="params-table",
            title="Create UPDATE_CONFIGURATION_PARAMS",
            role="ml_user",
            statements=[
                _SET,
                'CREATE TABLE UPDATE_CONFIGURATION_PARAMS ("Parameter" '
                'VARCHAR(100), "Value" VARCHAR(100))',
            ],
            done_when=[_table("UPDATE_CONFIGURATION_PARAMS")],
        ),
        Sql(
            id="result-table",
            title="Create UPDATE_CONFIGURATION_RESULT",
            role="ml_user",
            statements=[
                _SET,
                'CREATE TABLE UPDATE_CONFIGURATION_RESULT ("Key" VARCHAR(100), '
                '"Value" INTEGER, "Text" VARCHAR(100))',
            ],
            done_when=[_table("UPDATE_CONFIGURATION_RESULT")],
        ),
        Sql(
            id="procedure",
            title="Create the procedure UPDATE_CONFIGURATION",
            role="ml_user",
            statements=[_SET, PROCEDURE],
            done_when=[
                _count(
                    "procedure EML_DATA.UPDATE_CONFIGURATION exists",
                    "ml_user",
                    'SELECT COUNT(*) FROM "SYS"."PROCEDURES" WHERE SCHEMA_NAME = ? '
                    "AND PROCEDURE_NAME = ?",
                    "EML_DATA",
                    "UPDATE_CONFIGURATION",
                )
            ],
        ),
        Sql(
            id="update-configuration",
            title="Reload the EML configuration",
            role="ml_user",
            statements=[
                _SET,
                "TRUNCATE TABLE UPDATE_CONFIGURATION_RESULT",
                "CALL UPDATE_CONFIGURATION()",
                "SELECT * FROM UPDATE_CONFIGURATION_RESULT",
            ],
            expect_rows=[["Status", 0, "OK"]],
            idempotent=True,
            # EML reads its configuration at start-up: reload when the model server was
            # (re)configured or started, or an object the reload uses was created.
            rerun_after=[
                "6/model-config",
                "6/start-server",
                "grant-role",
                "grant-config",
                "remote-source",
                "schema",
                "params-table",
                "result-table",
                "procedure",
            ],
            fix="EML reaches the model server at {serving_host}:{port}: start it (step 6), "
            "then retry",
        ),
        Sql(
            id="check-params-table",
            title="Create CHECK_PARAMS",
            role="ml_user",
            statements=[
                _SET,
                'CREATE TABLE CHECK_PARAMS ("Parameter" VARCHAR(100), "Value" VARCHAR(100))',
            ],
            done_when=[_table("CHECK_PARAMS")],
        ),
        Sql(
            id="check-params-row",
            title="Ask for every model in CHECK_PARAMS",
            role="ml_user",
            statements=[_SET, "INSERT INTO CHECK_PARAMS VALUES ('Model', '*')"],
            done_when=[
                _count(
                    "CHECK_PARAMS asks for every model",
                    "ml_user",
                    'SELECT COUNT(*) FROM "EML_DATA"."CHECK_PARAMS" WHERE "Parameter" = ?',
                    "Model",
                )
            ],
        ),
        Sql(
            id="check-destination",
            title="List the registered models",
            role="ml_user",
            statements=[_SET, "CALL _SYS_AFL.EML_CHECKDESTINATION_PROC(CHECK_PARAMS, ?)"],
            capture=True,
            idempotent=True,
        ),
    ],
    results=[ROLE_GRANTED, CREATOR_ROLE_GRANTED, REMOTE_SOURCE, RELOAD_OK],
)
