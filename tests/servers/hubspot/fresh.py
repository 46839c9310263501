"""A HubSpot portal that is not the demo: HubSpot's default pipeline plus a Renewals pipeline, no key property.

``fresh_portal`` fills a ``Portal`` the way a company's portal might look on its first day with CRM
Warden: the default "Sales Pipeline" with HubSpot's own stage ids and labels ("Decision Maker
Bought-In"...), a "Renewals" pipeline whose stages have numeric ids, customers marked only by
``lifecyclestage = customer`` (no company ``type``), owners in two teams and one in none (HubSpot has
no managers), and no ``warden_key`` task property. Its records break the seed rules relative to ``NOW``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tests.servers.hubspot.portal import Portal, iso

NOW = datetime(2026, 5, 6, 15, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
DAY_MS = 86_400_000
SALES = [("appointmentscheduled", "Appointment Scheduled", "false", "0.2"),
         ("qualifiedtobuy", "Qualified To Buy", "false", "0.4"),
         ("presentationscheduled", "Presentation Scheduled", "false", "0.6"),
         ("decisionmakerboughtin", "Decision Maker Bought-In", "false", "0.8"),
         ("contractsent", "Contract Sent", "false", "0.9"),
         ("closedwon", "Closed Won", "true", "1.0"), ("closedlost", "Closed Lost", "true", "0.0")]
RENEWALS = [("81234567", "Renewal Due", "false", "0.5"), ("81234568", "Renewal Negotiation", "false", "0.7"),
            ("81234569", "Renewed", "true", "1.0"), ("81234570", "Churned", "true", "0.0")]
OWNERS = [("41000001", "ana@portal.example", "Ana", "Lima", "Inside Sales"),
          ("41000002", "ben@portal.example", "Ben", "Okafor", "Inside Sales"),
          ("41000003", "cai@portal.example", "Cai", "Wong", "Account Management"),
          ("41000004", "dev@portal.example", "Dev", "Patel", "Account Management"),
          ("41000005", "eli@portal.example", "Eli", "Stone", None)]


@dataclass
class Fresh:
    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.ids[name]


def _ago(days: float) -> int:
    return NOW_MS - int(days * DAY_MS)


def _pipeline(pid: str, label: str, order: int, stages: list[tuple[str, str, str, str]]) -> dict[str, object]:
    return {"id": pid, "label": label, "displayOrder": order, "archived": False, "stages": [
        {"id": sid, "label": name, "displayOrder": n, "archived": False,
         "metadata": {"isClosed": closed, "probability": p}} for n, (sid, name, closed, p) in enumerate(stages)]}


def fresh_portal(portal: Portal) -> Fresh:
    """Set ``portal`` up as a company's own portal on its first day with CRM Warden (see the module docstring)."""
    portal.clock_ms = lambda: NOW_MS - DAY_MS
    portal.time_zone = "America/Chicago"
    portal.pipelines = [_pipeline("default", "Sales Pipeline", 0, SALES),
                        _pipeline("7654321", "Renewals", 1, RENEWALS)]
    portal.owners = [{"id": i, "email": e, "firstName": f, "lastName": last, "userId": int(i) + 1, "archived": False,
                      "teams": [{"id": str(abs(hash(t)) % 10_000), "name": t, "primary": True}] if t else [],
                      "createdAt": iso(_ago(500)), "updatedAt": iso(_ago(500))} for i, e, f, last, t in OWNERS]
    f = Fresh()
    add = f.ids.__setitem__
    company = portal.create
    add("acme", company("companies", {"name": "Acme Outdoor", "lifecyclestage": "customer",
                                      "hubspot_owner_id": "41000003", "domain": "acme-outdoor.example"},
                        created_ms=_ago(400)).id)
    add("birch", company("companies", {"name": "Birch Foods", "lifecyclestage": "customer",
                                       "hubspot_owner_id": "41000005"}, created_ms=_ago(300)).id)
    add("cobalt", company("companies", {"name": "Cobalt Labs", "lifecyclestage": "opportunity",
                                        "hubspot_owner_id": "41000001"}, created_ms=_ago(100)).id)
    _deals(portal, f)
    _leads_and_tasks(portal, f)
    return f


def _deal(portal: Portal, f: Fresh, name: str, stage: tuple[str, str, str, str], pipeline: str, owner: str,
          created: float, moved: float, company: str, **props: object) -> str:
    values: dict[str, object] = {"dealname": name, "dealstage": stage[0], "pipeline": pipeline, "amount": "18000",
                                 "closedate": iso(NOW_MS + 30 * DAY_MS), "hs_deal_stage_probability": stage[3],
                                 "hubspot_owner_id": owner, f"hs_date_entered_{stage[0]}": iso(_ago(moved))}
    deal = portal.create("deals", values | props, created_ms=_ago(created)).id
    portal.associate("deals", deal, "companies", f[company], {5, 341})
    return deal


def _deals(portal: Portal, f: Fresh) -> None:
    add = f.ids.__setitem__
    add("new_deal", _deal(portal, f, "Cobalt pilot", SALES[0], "default", "41000001", 10, 10, "cobalt"))
    add("bought_in", _deal(portal, f, "Acme tents", SALES[3], "default", "41000002", 40, 3, "acme"))
    add("stale_deal", _deal(portal, f, "Acme stoves", SALES[2], "default", "41000002", 150, 80, "acme"))
    add("gated_deal", _deal(portal, f, "Birch ovens", SALES[4], "default", "41000005", 30, 5, "birch", amount=""))
    add("renewal", _deal(portal, f, "Acme renewal", RENEWALS[0], "7654321", "41000003", 200, 90, "acme"))


def _leads_and_tasks(portal: Portal, f: Fresh) -> None:
    add = f.ids.__setitem__
    add("fresh_lead", portal.create("contacts", {
        "firstname": "Ivy", "lastname": "Chen", "email": "ivy@prospect.example", "lifecyclestage": "lead",
        "hs_lead_status": "NEW", "hubspot_owner_id": "41000001"}, created_ms=_ago(1)).id)
    add("customer_contact", portal.create("contacts", {
        "firstname": "Sam", "lastname": "Reed", "email": "sam@acme-outdoor.example", "lifecyclestage": "customer",
        "hubspot_owner_id": "41000003"}, created_ms=_ago(300)).id)
    portal.associate("contacts", f["customer_contact"], "companies", f["acme"])
    add("overdue", portal.create("tasks", {
        "hs_task_subject": "Send the revised quote", "hs_timestamp": iso(_ago(6)), "hs_task_status": "NOT_STARTED",
        "hs_task_priority": "HIGH", "hs_task_type": "TODO", "hubspot_owner_id": "41000005"},
        created_ms=_ago(12)).id)
    portal.associate("tasks", f["overdue"], "deals", f["gated_deal"])
    add("old_call", portal.create("calls", {
        "hs_call_title": "Check-in", "hs_timestamp": iso(_ago(20)), "hs_call_status": "COMPLETED",
        "hubspot_owner_id": "41000003"}, created_ms=_ago(20)).id)
    portal.associate("calls", f["old_call"], "companies", f["acme"])
