"""How far a sync has read: records and pages as they arrive from the CRM, told to a progress phase.

A chunk the mirror writes holds ``CHUNK_SIZE`` records, which a CRM of 100 records a page takes
minutes to send; the reading thread (``store.prefetch``) tells the count every few hundred records
instead, so a slow CRM shows its progress page by page.
"""

from __future__ import annotations

from domain.connector import CountsCalls, Reader
from domain.progress import Phase


class PageCount:
    """The reader's read calls since this count began: pages, since each read call brings one."""

    def __init__(self, reader: Reader) -> None:
        self._usage = reader.usage if isinstance(reader, CountsCalls) else None
        self._before = self._reads()

    def _reads(self) -> int:
        return self._usage.calls.get("read", 0) if self._usage is not None else 0

    def read(self) -> int:
        return self._reads() - self._before


class ReadProgress:
    """Called with the records read so far; tells ``phase`` those and the pages they took."""

    def __init__(self, reader: Reader, phase: Phase) -> None:
        self._pages = PageCount(reader)
        self._phase = phase
        self.records = 0

    def __call__(self, records: int) -> None:
        self.records = records
        self._phase.update(records, pages=self._pages.read())
