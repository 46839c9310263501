"""The benchmark's Salesforce: the local HTTPS fake with a generated org, in its own process.

Running it in a child process keeps the org's rows out of the benchmark's memory figures. The parent
talks to it over a pipe: ``("touch", share)`` changes that share of every object as users would,
``("stop", None)`` ends it.
"""

from __future__ import annotations

import random
import tempfile
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tests.servers.salesforce.org import Org
from tests.servers.salesforce.server import FakeSalesforce, serve

SHARES = {"Account": 0.10, "Contact": 0.20, "Lead": 0.20, "Opportunity": 0.20, "Task": 0.30}
"""How the records split across objects."""
USERS = 50


def generate(org: Org, records: int) -> dict[str, int]:
    """Fill ``org`` with ``records`` records across the objects; returns how many of each."""
    rng = random.Random(7)
    org.now -= timedelta(seconds=records)  # one record a second, as an org fills over days

    def add(sobject: str, **values: Any) -> str:
        org.now += timedelta(seconds=1)
        return org.add(sobject, **values)

    users = [org.add("User", Name=f"Rep {n}", Email=f"rep{n}@example.com", IsActive=True) for n in range(USERS)]
    org.add("Group", Name="Marketing Queue", Type="Queue")
    sizes = {sobject: max(1, round(records * share)) for sobject, share in SHARES.items()}
    accounts = [add("Account", Name=f"Account {n}", OwnerId=rng.choice(users), BillingCountry="US")
                for n in range(sizes["Account"])]
    for n in range(sizes["Contact"]):
        add("Contact", Name=f"Contact {n}", AccountId=rng.choice(accounts), OwnerId=rng.choice(users))
    for n in range(sizes["Lead"]):
        add("Lead", Name=f"Lead {n}", Company=f"Company {n}", OwnerId=rng.choice(users), Status="Open")
    for n in range(sizes["Opportunity"]):
        add("Opportunity", Name=f"Deal {n}", AccountId=rng.choice(accounts), OwnerId=rng.choice(users),
                StageName="Prospecting", Amount=float(rng.randrange(1000, 90000)), CloseDate="2026-09-30",
                IsClosed=False, IsWon=False)
    for n in range(sizes["Task"]):
        add("Task", Subject=f"Call {n}", OwnerId=rng.choice(users), Status="Not Started", IsClosed=False,
                TaskSubtype="Call", Priority="Normal", ActivityDate="2026-05-04", WhatId=rng.choice(accounts))
    return sizes


def touch(org: Org, share: float) -> int:
    """Change ``share`` of every object's records a minute later, as users editing the org would."""
    rng = random.Random(11)
    org.now += timedelta(minutes=1)
    changed = 0
    for sobject in SHARES:
        ids = list(org.tables[sobject])
        for record_id in rng.sample(ids, max(1, round(len(ids) * share))):
            org.touch(sobject, record_id)
            changed += 1
    return changed


def run(pipe: Connection, records: int, latency: float) -> None:
    """Child process entry: generate, serve, report the URL and CA bundle, then obey commands."""
    fake = FakeSalesforce(latency=latency, api_max=5_000_000)
    sizes = generate(fake.org, records)
    with tempfile.TemporaryDirectory() as ca_dir, serve(fake, ca_dir=Path(ca_dir)) as (_, bundle):
        pipe.send({"url": fake.url, "bundle": bundle, "client_id": fake.client_id,
                   "client_secret": fake.client_secret, "sizes": sizes})
        while True:
            command, argument = pipe.recv()
            reply: Any = None
            with fake.lock:
                if command == "touch":
                    reply = touch(fake.org, float(argument))
                elif command == "requests":
                    reply = dict(fake.requests)
            pipe.send(reply)
            if command == "stop":
                return
