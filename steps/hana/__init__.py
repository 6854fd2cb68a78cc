"""SAP HANA through SAP's own client, hdbcli: connections per role, and errors as sentences.

``hdbcli`` is imported only by ``steps.hana.client``, so the wizard starts without it.
"""
