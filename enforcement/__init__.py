"""The rules: SLA reassignment, stale deals and leads, call cadence, overdue tasks, stage gates, new duplicates.

Pure functions from the org's data, the policy, a business calendar and a clock to findings and
actions (``domain.plan``); they never touch the network. May import ``domain``, ``config`` and ``dedupe``.
"""
