"""Local servers that speak the Salesforce and HubSpot wire formats, shared by the tests and the benchmarks.

Each keeps an org (or portal) in memory and answers as the real API does, as recorded in
``shared/API-FACTS.md``: paging, batch limits, partial failures, rate-limit replies, session expiry.
"""
