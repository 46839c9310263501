"""The apply stage: the only place CRM Warden changes a CRM.

``actions`` carries out a rule job's plan (updates, tasks, alerts, the scheduled job's merges),
``merges`` an admin's approved dedupe clusters, ``undo`` takes merges back, ``revert`` any run's field
writes and tasks, and ``settle`` finishes
from the CRM what a dead or failed run left in flight (``fields`` compares records with payloads).
Each change is claimed in the ledger under its idempotency key before the connector is called.
"""
