"""The shared vocabulary at the bottom of CRM Warden: it imports nothing of the project.

Normalized records (``records``), what CRM Warden needs from a CRM (``connector``: the protocols and
their small types), the error tree (``errors``), the plan types rules return (``plan``: findings,
actions, skips) and the org data rules read (``org``). Every other package imports these.
"""
