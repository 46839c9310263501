"""The embedded CRM: one SQLite file with a real CRM's semantics, for the demo, the benchmarks and trials.

Its public face is below; the ``_``-prefixed modules are its internals. It may import ``domain``
only, never another CRM's package.
"""

from connectors.local._connector import LocalCRM
from connectors.local.settings import LocalCrmSettings
from connectors.local.view import LocalLinks, write_record_view

__all__ = ["LocalCRM", "LocalCrmSettings", "LocalLinks", "write_record_view"]

