"""Serve the demo org as a local Salesforce, for end-to-end runs of ``warden`` against the connector.

    python -m tests.servers.salesforce.demo --port 8443 --ca-dir .warden/sf-ca

It prints the ``SALESFORCE_*`` and ``REQUESTS_CA_BUNDLE`` settings to export in another shell, then
serves until interrupted. The demo's custom data sits in custom fields (``BantBudget__c``...), whose
field-map overrides are printed too.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from connectors.local import LocalCRM
from demo.org import seed_demo
from domain.records import ObjectType
from tests.servers.salesforce.records import custom_fields, load
from tests.servers.salesforce.server import FakeSalesforce, serve


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--ca-dir", type=Path, default=Path(".warden/sf-ca"))
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as scratch:
        demo = LocalCRM(Path(scratch) / "demo.db", clock=lambda: now)
        seed_demo(demo, now)
        records = [r for obj in ObjectType for r in demo.iter_changed(obj, None)]
        demo.close()
    fake = FakeSalesforce(api_max=100_000)
    fields = custom_fields(records)
    load(fake.org, records, fields)
    args.ca_dir.mkdir(parents=True, exist_ok=True)
    with serve(fake, ca_dir=args.ca_dir, port=args.port) as (_, bundle):
        print(f"export SALESFORCE_LOGIN_URL={fake.url} SALESFORCE_CLIENT_ID={fake.client_id} "
              f"SALESFORCE_CLIENT_SECRET={fake.client_secret} REQUESTS_CA_BUNDLE={Path(bundle).resolve()}")
        print("field map overrides:", {str(obj): overrides for obj, overrides in fields.items()})
        print(f"{len(records):,} records served; Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
