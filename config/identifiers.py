"""Names from the policy that reach a CRM's queries and request paths: API names, checked where they enter.

A field map's values are spliced into SOQL select lists and HubSpot property lists as they are, so
anything but an API name (``BANT_Budget__c``, ``bant_budget``) is refused with its key and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

SALESFORCE_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*")
"""A field (``Amount``, ``BANT_Budget__c``, ``ns__Score__c``) or a relationship path (``Account.Name``)."""
HUBSPOT_PROPERTY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
NORMALIZED_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _api_name(pattern: re.Pattern[str], what: str, example: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not {what} API name: letters, digits and underscores, e.g. {example}")
        return value
    return check


SalesforceField = Annotated[str, AfterValidator(_api_name(SALESFORCE_FIELD, "a Salesforce", "BANT_Budget__c"))]
HubSpotProperty = Annotated[str, AfterValidator(_api_name(HUBSPOT_PROPERTY, "a HubSpot property", "bant_budget"))]
FieldName = Annotated[str, AfterValidator(_api_name(NORMALIZED_FIELD, "a field", "bant_budget"))]
