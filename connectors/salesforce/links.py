"""Links to Salesforce records: Lightning record pages on the org's instance."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from connectors.salesforce._mapping import SOBJECTS
from domain.records import ObjectType


@dataclass(frozen=True)
class SalesforceLinks:
    """Lightning record pages: ``https://<instance>/lightning/r/<Object>/<id>/view``."""

    instance: str
    """The org's host, with or without ``https://`` (e.g. ``acme.my.salesforce.com``)."""

    def url(self, object_type: ObjectType, record_id: str) -> str | None:
        host = urlsplit(self.instance).netloc or self.instance.strip("/")
        return f"https://{host}/lightning/r/{SOBJECTS[object_type]}/{quote(record_id, safe='')}/view"
