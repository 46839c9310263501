"""Serve the demo org (or a fresh org unlike it) as a local Salesforce, for end-to-end runs of ``warden``.

    python -m tests.servers.salesforce.demo --port 8443 --ca-dir .warden/sf-ca [--org fresh]

It prints the ``SALESFORCE_*`` and ``REQUESTS_CA_BUNDLE`` settings to export in another shell, then
serves until interrupted. The demo's custom data sits in custom fields (``BantBudget__c``...), whose
field-map overrides are printed too. ``--org fresh`` serves ``tests.servers.salesforce.fresh``: its own
stages and sales processes, no key field; try ``warden policy init``, ``warden doctor --fix`` and
``warden run all --now 2026-05-06T15:00:00Z`` on it.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.local import LocalCRM
from demo.org import seed_demo
from domain.records import ObjectType
from tests.servers.salesforce.fresh import NOW, fresh_org
from tests.servers.salesforce.org import Org
from tests.servers.salesforce.records import custom_fields, load
from tests.servers.salesforce.server import FakeSalesforce, serve


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--ca-dir", type=Path, default=Path(".warden/sf-ca"))
    parser.add_argument("--org", choices=("demo", "fresh"), default="demo")
    args = parser.parse_args(argv)
    if args.org == "fresh":
        fake = FakeSalesforce(org=Org(now=NOW - timedelta(days=1)), api_max=100_000)
        fresh_org(fake.org)
        _serve(fake, args.port, args.ca_dir, {})
        return
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as scratch:
        demo = LocalCRM(Path(scratch) / "demo.db", clock=lambda: now)
        seed_demo(demo, now)
        records = [r for obj in ObjectType for r in demo.iter_changed(obj, None)]
        demo.close()
    fake = FakeSalesforce(api_max=100_000)
    fields = custom_fields(records)
    load(fake.org, records, fields)
    _serve(fake, args.port, args.ca_dir, fields)


def _serve(fake: FakeSalesforce, port: int, ca_dir: Path, fields: dict[ObjectType, dict[str, str]]) -> None:
    ca_dir.mkdir(parents=True, exist_ok=True)
    with serve(fake, ca_dir=ca_dir, port=port) as (_, bundle):
        print(f"export SALESFORCE_LOGIN_URL={fake.url} SALESFORCE_CLIENT_ID={fake.client_id} "
              f"SALESFORCE_CLIENT_SECRET={fake.client_secret} REQUESTS_CA_BUNDLE={Path(bundle).resolve()}")
        if fields:
            print("field map overrides:", {str(obj): overrides for obj, overrides in fields.items()})
        print(f"{sum(len(t) for t in fake.org.tables.values()):,} rows served; Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
