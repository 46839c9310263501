"""Open the connector a run asks for, from settings."""

from __future__ import annotations

from collections.abc import Callable

from config.settings import Settings
from connectors.base import Connector
from connectors.local import LocalCRM


class UnknownCrm(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown CRM {name!r}: use one of {', '.join(FACTORIES)} (--crm or WARDEN_CRM)")


def _local(settings: Settings) -> Connector:
    return LocalCRM.from_url(settings.local_crm_url)


FACTORIES: dict[str, Callable[[Settings], Connector]] = {
    "local": _local,
}


def open_connector(settings: Settings, crm: str) -> Connector:
    """The connector for ``crm``; a missing credential raises an error naming its variable."""
    try:
        factory = FACTORIES[crm]
    except KeyError:
        raise UnknownCrm(crm) from None
    return factory(settings)
