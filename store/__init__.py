"""The database: the mirror of each connection's records and the ledger of runs, actions, claims and snapshots.

SQLAlchemy models, Alembic migrations, and every query over them: nothing outside this package
touches a table. May import ``domain`` only.
"""
