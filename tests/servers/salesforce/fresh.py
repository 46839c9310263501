"""A Salesforce org that is not the demo: its own stages, two sales processes, no key field, loose owners.

``fresh_org`` fills an ``Org`` the way a company's org might look on the day it first meets CRM
Warden: stages named its own way (``Qualify``, ``Meet & Present``...), a New Business and a
Renewal record type with different stages, lead statuses of its own, a manager with reps and two
users who report to nobody, an ``Inbound Leads`` queue, and no ``Warden_Key__c`` on Task. Its
records break the seed rules in every way a run can find, relative to ``NOW``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.servers.salesforce.org import Org, sf_datetime

NOW = datetime(2026, 5, 6, 15, 0, tzinfo=UTC)
"""Wednesday 6 May 2026, 17:00 in Berlin: the moment runs against the fresh org are judged at."""
STAGES = [("Qualify", 10, False, False), ("Meet & Present", 30, False, False), ("Propose", 60, False, False),
          ("Negotiate", 80, False, False), ("Renewal Pending", 50, False, False), ("Closed Won", 100, True, True),
          ("Closed Lost", 0, True, False), ("Churned", 0, True, False)]
SALES_PROCESSES = {"New Business": ("Qualify", "Meet & Present", "Propose", "Negotiate", "Closed Won", "Closed Lost"),
                   "Renewal": ("Renewal Pending", "Negotiate", "Closed Won", "Churned")}
LEAD_STATUSES = [("New", False), ("Contacted", False), ("Qualified", False), ("Unqualified", False),
                 ("Converted", True)]
ACCOUNT_TYPES = ("Prospect", "Customer", "Former Customer", "Reseller", "Other")


@dataclass
class Fresh:
    """Ids of the fresh org's records, by role."""

    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.ids[name]


def _at(days_ago: float) -> str:
    return sf_datetime(NOW - timedelta(days=days_ago))


def _day(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).date().isoformat()


def fresh_org(org: Org) -> Fresh:
    """Set ``org`` up as a company's own org on its first day with CRM Warden (see the module docstring)."""
    org.schema["Task"].remove("Warden_Key__c")
    org.field_options.clear()
    org.schema["Opportunity"].append("RecordTypeId")
    org.picklists[("Account", "Type")] = ACCOUNT_TYPES
    org.seed_setup(STAGES, LEAD_STATUSES, time_zone="Europe/Berlin", locale="de_DE")
    f = Fresh()
    add = f.ids.__setitem__
    for name, stages in SALES_PROCESSES.items():
        add(name, org.add("RecordType", Name=name, DeveloperName=name.replace(" ", "_"), SobjectType="Opportunity",
                          IsActive=True))
        org.record_type_values[f[name]] = stages
    user = {"IsActive": True, "TimeZoneSidKey": "Europe/Berlin"}
    add("boss", org.add("User", Name="Greta Vogel", Email="greta@fresh.example", **user))
    add("rep1", org.add("User", Name="Jonas Weber", Email="jonas@fresh.example", ManagerId=f["boss"], **user))
    add("rep2", org.add("User", Name="Lena Fischer", Email="lena@fresh.example", ManagerId=f["boss"], **user))
    add("loner", org.add("User", Name="Omar Sayed", Email="omar@fresh.example", **user))
    add("admin", org.add("User", Name="Integration User", Email="integration@fresh.example", **user))
    add("left", org.add("User", Name="Paul Alt", Email="paul@fresh.example", IsActive=False, ManagerId=f["boss"]))
    add("queue", org.add("Group", Name="Inbound Leads", Type="Queue"))
    _records(org, f)
    return f


def _opp(org: Org, f: Fresh, name: str, stage: str, owner: str, created: float, moved: float, process: str,
         **values: object) -> str:
    probability = next(p for s, p, _, _ in STAGES if s == stage)
    fields: dict[str, object] = {"Name": name, "StageName": stage, "OwnerId": f[owner], "RecordTypeId": f[process],
                                 "Amount": 25000.0, "Probability": float(probability), "CloseDate": _day(-30),
                                 "IsClosed": False, "IsWon": False, "CreatedDate": _at(created),
                                 "LastStageChangeDate": _at(moved), "AccountId": f["acme"]}
    return org.add("Opportunity", **(fields | values))


def _records(org: Org, f: Fresh) -> None:
    add = f.ids.__setitem__
    add("acme", org.add("Account", Name="Acme Maschinenbau GmbH", OwnerId=f["rep1"], Type="Customer",
                        Website="acme-maschinen.example", CreatedDate=_at(400)))
    add("bolt", org.add("Account", Name="Bolt Logistik AG", OwnerId=f["loner"], Type="Customer",
                        CreatedDate=_at(300)))
    add("cora", org.add("Account", Name="Cora Retail", OwnerId=f["rep2"], Type="Prospect", CreatedDate=_at(200)))
    add("new_deal", _opp(org, f, "Acme line 4", "Qualify", "rep1", created=10, moved=10, process="New Business"))
    add("stale_deal", _opp(org, f, "Acme spare parts", "Meet & Present", "rep2", created=120, moved=80,
                           process="New Business"))
    add("warned_deal", _opp(org, f, "Bolt fleet", "Propose", "loner", created=90, moved=65, process="New Business",
                            AccountId=f["bolt"]))
    add("gated_deal", _opp(org, f, "Cora pilot", "Propose", "rep2", created=30, moved=5, process="New Business",
                           Amount=None, AccountId=f["cora"]))
    add("renewal", _opp(org, f, "Acme renewal 2026", "Renewal Pending", "rep1", created=150, moved=90,
                        process="Renewal"))
    add("fresh_lead", org.add("Lead", Name="Mia Klein", FirstName="Mia", LastName="Klein", Company="Klein KG",
                              OwnerId=f["rep1"], Status="New", CreatedDate=_at(1)))
    add("stale_lead", org.add("Lead", Name="Tom Brandt", FirstName="Tom", LastName="Brandt", Company="Brandt OHG",
                              OwnerId=f["rep2"], Status="Qualified", CreatedDate=_at(45)))
    add("overdue", org.add("Task", Subject="Send the quote", OwnerId=f["rep2"], Status="Not Started", IsClosed=False,
                           TaskSubtype="Task", Priority="High", ActivityDate=_day(5), WhatId=f["gated_deal"],
                           CreatedDate=_at(10)))
