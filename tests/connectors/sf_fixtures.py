"""Fixtures for the Salesforce tests: one HTTPS fake per module, a fresh seeded org per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.salesforce import SalesforceConnector, SalesforceSettings
from tests.servers.salesforce.bulk import BulkJobs
from tests.servers.salesforce.org import Org
from tests.servers.salesforce.server import FakeSalesforce, serve


@dataclass
class Seeded:
    """Ids of the seed records, by role."""

    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.ids[name]


def seed(org: Org) -> Seeded:
    """A small org: a manager and two reps, a queue, duplicate accounts with children, leads."""
    s = Seeded()
    add = s.ids.__setitem__
    add("manager", org.add("User", Name="Mia Manager", Email="mia@example.com", IsActive=True,
                           TimeZoneSidKey="America/Chicago"))
    add("rep", org.add("User", Name="Rex Rep", Email="rex@example.com", IsActive=True, ManagerId=s["manager"],
                       TimeZoneSidKey="America/New_York"))
    add("rep2", org.add("User", Name="Ria Rep", Email="ria@example.com", IsActive=True, ManagerId=s["manager"]))
    add("retired", org.add("User", Name="Ray Retired", Email="ray@example.com", IsActive=False))
    add("queue", org.add("Group", Name="Marketing Queue", Type="Queue"))
    add("acme", org.add("Account", Name="Acme Products", OwnerId=s["rep"], Website="acme.example", Type="Customer",
                        BillingCity="Austin"))
    add("acme_inc", org.add("Account", Name="Acme Products, Inc.", OwnerId=s["rep2"], Phone="+1 512 555 0100"))
    add("acme_co", org.add("Account", Name="Acme Products, Incorporated", OwnerId=s["rep"]))
    add("partner", org.add("Account", Name="Channel Partner LLC", OwnerId=s["rep"], Type="Partner"))
    add("contact", org.add("Contact", Name="Carla Buyer", AccountId=s["acme_inc"], OwnerId=s["rep"],
                           Email="carla@acme.example"))
    add("opp", org.add("Opportunity", Name="Acme renewal", AccountId=s["acme_inc"], OwnerId=s["rep"],
                       StageName="Prospecting", Amount=12000.0, Probability=10.0, CloseDate="2026-06-30",
                       IsClosed=False, IsWon=False, LastStageChangeDate="2026-03-01T09:30:00.000+0000",
                       PartnerAccountId=s["partner"]))
    add("task", org.add("Task", Subject="Call Carla", OwnerId=s["rep"], Status="Not Started", IsClosed=False,
                        TaskSubtype="Call", Priority="High", ActivityDate="2026-05-04", WhatId=s["acme_co"],
                        WhoId=s["contact"]))
    add("note", org.add("Note", ParentId=s["acme_inc"], Title="Pricing", Body="Wants a 3-year deal"))
    add("lead", org.add("Lead", Name="Lee Prospect", Company="Lee Corp", OwnerId=s["queue"], Status="Open"))
    return s


@pytest.fixture(scope="module")
def sf_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeSalesforce, str]]:
    with serve(ca_dir=tmp_path_factory.mktemp("ca")) as running:
        yield running


@pytest.fixture
def fake(sf_server: tuple[FakeSalesforce, str]) -> FakeSalesforce:
    server, _ = sf_server
    server.org, server.faults, server.api_used, server.latency, server.bulk = Org(), [], 0, 0.0, BulkJobs()
    server.requests.clear()
    server.expire_sessions()
    return server


@pytest.fixture
def seeded(fake: FakeSalesforce) -> Seeded:
    return seed(fake.org)


@pytest.fixture
def sleeps() -> list[float]:
    return []


def connect(
    fake: FakeSalesforce, bundle: str | Path, sleeps: list[float] | None = None, **options: Any
) -> SalesforceConnector:
    """A connector logged in by client credentials against the fake, trusting its CA, never really sleeping."""
    http = requests.Session()
    http.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise win over ``verify``
    http.verify = str(bundle)
    values = {"login_url": fake.url, "client_id": fake.client_id, "client_secret": fake.client_secret}
    settings = SalesforceSettings(**(values | options.pop("settings", {})))
    pause = sleeps.append if sleeps is not None else (lambda _: None)
    return SalesforceConnector.from_settings(settings, http=http, sleep=pause, **options)


@pytest.fixture
def connector(fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], sleeps: list[float]) -> SalesforceConnector:
    return connect(fake, sf_server[1], sleeps)
