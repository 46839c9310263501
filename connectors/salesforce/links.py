"""Links to Salesforce records: Lightning record pages on the org's instance.

The instance is ``SALESFORCE_INSTANCE_URL`` when set; with an OAuth login (client credentials or JWT)
and no instance URL, it is the ``instance_url`` of the login's token response, asked for once, when
the first link is needed. A login that fails costs the digest its links, not the digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import requests
import structlog

from connectors.salesforce._auth import token_source
from connectors.salesforce._mapping import SOBJECTS
from connectors.salesforce.settings import SalesforceSettings
from domain.connector import NoLinks, RecordLinks
from domain.errors import ConnectorError
from domain.records import ObjectType

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SalesforceLinks:
    """Lightning record pages: ``https://<instance>/lightning/r/<Object>/<id>/view``."""

    instance: str
    """The org's host, with or without ``https://`` (e.g. ``acme.my.salesforce.com``)."""

    def url(self, object_type: ObjectType, record_id: str) -> str | None:
        host = urlsplit(self.instance).netloc or self.instance.strip("/")
        return f"https://{host}/lightning/r/{SOBJECTS[object_type]}/{quote(record_id, safe='')}/view"


@dataclass
class LoginLinks:
    """Record pages on the instance the OAuth login names, found by one login on first use."""

    settings: SalesforceSettings
    _resolved: RecordLinks | None = field(default=None, init=False, compare=False, repr=False)

    def url(self, object_type: ObjectType, record_id: str) -> str | None:
        if self._resolved is None:
            self._resolved = self._login()
        return self._resolved.url(object_type, record_id)

    def _login(self) -> RecordLinks:
        try:
            token = token_source(self.settings, requests.Session(), lambda: datetime.now(UTC)).token()
        except ConnectorError as exc:
            log.warning("salesforce.links_unavailable", error=str(exc))
            return NoLinks()
        return SalesforceLinks(token.instance_url)


def salesforce_links(settings: SalesforceSettings) -> RecordLinks:
    """Links on ``SALESFORCE_INSTANCE_URL``, else on the instance an OAuth login names, else none."""
    if settings.instance_url:
        return SalesforceLinks(settings.instance_url)
    if settings.client_id and (settings.client_secret or (settings.username and settings.private_key_file)):
        return LoginLinks(settings)
    return NoLinks()
