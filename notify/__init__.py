"""The managers' digests and the reps' morning lists: assembled from the ledger, rendered, sent by SMTP.

May import ``domain``, ``config``, ``store`` and ``enforcement`` (the calendar, the rule families).
"""
