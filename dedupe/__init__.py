"""Duplicate accounts: normalizing names and contact points, blocking, scoring, clusters, survivorship, plans.

Pure: it reads accounts and writes plans; ``jobs.apply`` carries the merges out. May import
``domain``, ``config`` and ``connectors.kinds`` (the CRMs' export columns).
"""
