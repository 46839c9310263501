"""Links from digest items to the records in each CRM."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from config.settings import Settings
from connectors.hubspot import HubSpotLinks, HubSpotSettings
from connectors.salesforce import SalesforceLinks, SalesforceSettings
from domain.connector import NoLinks, RecordLinks
from domain.records import ObjectType
from jobs.connections import record_links
from tests.connectors.sf_fixtures import fake, sf_server
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["fake", "sf_server"]


@pytest.mark.parametrize(
    ("links", "object_type", "record_id", "expected"),
    [
        (SalesforceLinks("acme.my.salesforce.com"), ObjectType.OPPORTUNITY, "006Dn000001abcdIAA",
         "https://acme.my.salesforce.com/lightning/r/Opportunity/006Dn000001abcdIAA/view"),
        (SalesforceLinks("https://acme.lightning.force.com/"), ObjectType.LEAD, "00Q5e00000AbCdE",
         "https://acme.lightning.force.com/lightning/r/Lead/00Q5e00000AbCdE/view"),
        (HubSpotLinks("4711"), ObjectType.ACCOUNT, "406260751575",
         "https://app.hubspot.com/contacts/4711/record/0-2/406260751575"),
        (HubSpotLinks("4711"), ObjectType.OPPORTUNITY, "5790939450",
         "https://app.hubspot.com/contacts/4711/record/0-3/5790939450"),
        (HubSpotLinks("4711"), ObjectType.TASK, "99", "https://app.hubspot.com/contacts/4711/record/0-27/99"),
        (HubSpotLinks("4711"), ObjectType.OWNER, "32900489", None),
        (HubSpotLinks("4711"), ObjectType.LEAD, "51", "https://app.hubspot.com/contacts/4711/record/0-1/51"),
        (HubSpotLinks("4711", leads="leads_object"), ObjectType.LEAD, "51",
         "https://app.hubspot.com/contacts/4711/record/0-136/51"),
        (NoLinks(), ObjectType.ACCOUNT, "acc-000001", None),
    ],
)
def test_record_url(links: RecordLinks, object_type: ObjectType, record_id: str, expected: str | None) -> None:
    """Each CRM's record page address, or no link where the CRM has no page."""
    assert links.url(object_type, record_id) == expected


def test_ids_are_escaped_in_urls() -> None:
    """An id with URL-special characters cannot break out of its path segment."""
    assert SalesforceLinks("x.my.salesforce.com").url(ObjectType.ACCOUNT, "a/b?c") == (
        "https://x.my.salesforce.com/lightning/r/Account/a%2Fb%3Fc/view"
    )


@pytest.mark.parametrize(
    ("crm", "expected"),
    [("salesforce", SalesforceLinks("acme.my.salesforce.com")), ("hubspot", HubSpotLinks("4711")),
     ("local", NoLinks())],
)
def test_links_for_each_crm_kind(crm: str, expected: RecordLinks) -> None:
    """The CLI picks a connection's link style from its CRM kind and base."""
    settings = Settings(salesforce=SalesforceSettings(instance_url="acme.my.salesforce.com"),
                        hubspot=HubSpotSettings(portal_id="4711"))
    assert record_links(settings, crm) == expected


def test_links_without_a_base_fall_back_to_ids() -> None:
    """A HubSpot connection without HUBSPOT_PORTAL_ID gets id-only items rather than broken links."""
    assert record_links(Settings(hubspot=HubSpotSettings(portal_id=None)), "hubspot") == NoLinks()


def test_salesforce_links_come_from_the_login_when_no_instance_url_is_set(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With client credentials and no SALESFORCE_INSTANCE_URL, links use the instance_url the token response names."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sf_server[1])
    section = SalesforceSettings(login_url=fake.url, client_id=fake.client_id, client_secret=fake.client_secret)
    links = record_links(Settings(salesforce=section), "salesforce")
    host = urlsplit(fake.url).netloc

    assert links.url(ObjectType.OPPORTUNITY, "006A") == f"https://{host}/lightning/r/Opportunity/006A/view"


def test_salesforce_links_without_a_working_login_fall_back_to_names(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused login costs the digest its links, never the digest itself."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sf_server[1])
    section = SalesforceSettings(login_url=fake.url, client_id=fake.client_id, client_secret="wrong")
    links = record_links(Settings(salesforce=section), "salesforce")

    assert links.url(ObjectType.OPPORTUNITY, "006A") is None
