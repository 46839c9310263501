"""The demo org: a company's worth of records seeded into the embedded CRM, with every rule's cases in it.

May import ``domain`` and ``connectors``.
"""
