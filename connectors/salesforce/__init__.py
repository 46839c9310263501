"""Salesforce, through simple-salesforce (REST, Bulk API 2.0) and the SOAP API (merge, undelete).

Its public face is below; the ``_``-prefixed modules are its internals. It may import ``domain``
and ``connectors._retry`` only, never another CRM's package.
"""

from connectors.salesforce._connector import SalesforceConnector
from connectors.salesforce.exports import ACCOUNT_COLUMNS
from connectors.salesforce.links import SalesforceLinks, salesforce_links
from connectors.salesforce.settings import SalesforceSettings

__all__ = ["ACCOUNT_COLUMNS", "SalesforceConnector", "SalesforceLinks", "SalesforceSettings", "salesforce_links"]

