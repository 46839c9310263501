"""Shared pieces of the HubSpot connector tests: a fake clock both ends agree on, and a connector."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import SecretStr

from connectors.hubspot import HubSpotConnector, HubSpotSettings
from tests.servers.hubspot.portal import Portal
from tests.servers.hubspot.seed import setup_portal
from tests.servers.hubspot.server import HubSpotServer, Limits


class SecondsClock:
    """Monotonic seconds that only move when someone sleeps; client and server share it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@contextmanager
def hubspot(limits: Limits | None = None, **portal_options: Any) -> Iterator[tuple[HubSpotServer, SecondsClock]]:
    """A started local HubSpot with owners, a pipeline and the task key property, on a fake clock."""
    clock = SecondsClock()
    portal = Portal(**portal_options)
    setup_portal(portal)
    with HubSpotServer(portal, limits or Limits(), clock=clock) as server:
        yield server, clock


def connect(server: HubSpotServer, clock: SecondsClock, *, burst: int = 100, **options: Any) -> HubSpotConnector:
    """A connector to the local server through ``from_settings``, sleeping on the fake clock."""
    settings = HubSpotSettings(access_token=SecretStr("test-token"), api_base=server.url, burst_limit=burst)
    return HubSpotConnector.from_settings(settings, clock=clock, sleep=clock.sleep, **options)
