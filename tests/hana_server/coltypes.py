"""Column types in CREATE TABLE: the ones the test server stores, HANA's others, the rest.

SAP HANA SQL Reference, "Data Types" lists HANA's types; an unknown type name is error 264
ERR_SQL_INV_DATATYPE "invalid datatype" (SAP HANA SQL Reference, "SQL Error Codes";
https://www.dberror.org/sap-s4hana/264). FLOAT(n) is "a 32-bit or 64-bit real number with n
significant bits, 1 <= n <= 53" and FLOAT alone takes 53 (SAP HANA SQL Reference, "Numeric
Data Types"; learning.sap.com "Creating and Modifying Tables"): a 64-bit double here, as
SAP's EML tutorials declare their tensors' columns FLOAT. A BLOB column stores bytes (SAP's
image-retraining tutorial feeds EML a BLOB); the test server has no LOB locators, so it never
returns one in a result set.
"""

from __future__ import annotations

from .results import HanaError
from .types import TypeCode

#: Column types the test server stores (SAP HANA SQL Reference, "Data Types").
_TYPES = {
    "VARCHAR": TypeCode.VARCHAR,
    "NVARCHAR": TypeCode.NVARCHAR,
    "INTEGER": TypeCode.INTEGER,
    "INT": TypeCode.INTEGER,
    "BIGINT": TypeCode.BIGINT,
    "SMALLINT": TypeCode.SMALLINT,
    "TINYINT": TypeCode.TINYINT,
    "DOUBLE": TypeCode.DOUBLE,
    "FLOAT": TypeCode.DOUBLE,
    "BLOB": TypeCode.BLOB,
    "REAL": TypeCode.REAL,
    "ALPHANUM": TypeCode.ALPHANUM,
    "SHORTTEXT": TypeCode.SHORTTEXT,
}
#: HANA types the test server does not store (no result encoding for them here).
_UNSUPPORTED_TYPES = {
    "DECIMAL", "SMALLDECIMAL", "BOOLEAN", "DATE", "TIME", "SECONDDATE", "TIMESTAMP",
    "VARBINARY", "CLOB", "NCLOB", "TEXT", "BINTEXT", "ST_GEOMETRY", "ST_POINT",
}  # fmt: skip


def column_type(name: str) -> TypeCode:
    """The wire type of a column declared ``name``; 264 for a type HANA does not have."""
    type_name = name.upper()
    if type_name in _UNSUPPORTED_TYPES:
        raise HanaError(7, f"feature not supported: type {type_name} in the test server")
    if type_name not in _TYPES:
        raise HanaError(264, f"invalid datatype: {type_name}: line 1 col 1")
    return _TYPES[type_name]
