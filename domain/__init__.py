"""The shared vocabulary at the bottom of CRM Warden: it imports nothing of the project.

Normalized records (``records``), what CRM Warden needs from a CRM (``connector``: the protocols and
their small types), the error tree (``errors``), the plan types rules return (``plan``: findings,
actions, skips), the org data rules read (``org``) and the org metadata ``warden doctor`` and
``warden policy init`` read (``inspection``). Every other package imports these.
"""
