"""The CRMs: one package each (``salesforce``, ``hubspot``, ``local``), speaking ``domain.connector``.

Each package owns its settings, client, field mapping, error table, record links and export
columns; ``kinds`` is the one table that knows all three. ``_retry`` is the retry policy the remote
ones share. May import ``domain`` only; the CRM packages never import each other.
"""
