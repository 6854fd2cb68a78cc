"""A HANA wire-protocol test server that the real ``hdbcli`` connects to.

>>> cat = Catalogue(tenant="HXE", users={"SYSTEM": "Manager1", "ML_USER": "Secret1"})
>>> with HanaTestServer(cat) as srv:  # doctest: +SKIP
...     dbapi.connect(address="127.0.0.1", port=srv.port, user="SYSTEM",
...                   password="Manager1", databaseName="HXE")
"""

from .catalogue import Catalogue, SqlSession
from .process import HanaTestServer
from .results import CallResult, HanaError, ResultSet, RowCount
from .server import ServerCore, Statement
from .types import Column, TypeCode

__all__ = [
    "CallResult",
    "Catalogue",
    "Column",
    "HanaError",
    "HanaTestServer",
    "ResultSet",
    "RowCount",
    "ServerCore",
    "SqlSession",
    "Statement",
    "TypeCode",
]
