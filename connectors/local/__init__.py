"""The embedded CRM: one SQLite file with a real CRM's semantics, for the demo, the benchmarks and trials.

Its public face is below; the ``_``-prefixed modules are its internals. It may import ``domain``
only, never another CRM's package.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.local._connector import LocalCRM
from connectors.local.settings import LocalCrmSettings
from domain.connector import NoLinks, RecordLinks
from domain.records import ObjectType

__all__ = ["LocalCRM", "LocalCrmSettings", "links", "open_connector"]


def open_connector(settings: LocalCrmSettings, fields: Mapping[ObjectType, Mapping[str, str]]) -> LocalCRM:
    """The embedded CRM at the settings' URL; it stores custom fields by their own names, so ``fields`` is unused."""
    return LocalCRM.from_url(settings.url)


def links(settings: LocalCrmSettings) -> RecordLinks:
    """The embedded CRM has no web pages: items show record ids."""
    return NoLinks()
