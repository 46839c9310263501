"""How far a sync has come: records written, and records and pages read, told to a progress phase.

A chunk the mirror writes holds ``CHUNK_SIZE`` records, which a CRM of 100 records a page takes
minutes to send; the reading thread (``store.prefetch``) tells what it read every few hundred records
as well, so a slow CRM shows its progress page by page.
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


class SyncProgress:
    """Tells ``phase`` the records written so far, and the records and pages read, from either thread.

    The reading thread runs up to two chunks ahead of the writing: a reading that is done says
    little while the mirror still writes, so each written chunk is told too.
    """

    def __init__(self, reader: Reader, phase: Phase) -> None:
        self._pages = PageCount(reader)
        self._phase = phase
        self.read = 0
        self.written = 0

    def __call__(self, read: int) -> None:
        """``read`` records read so far (the reading thread's ``on_read``)."""
        self.read = read
        self.tell()

    def wrote(self, records: int) -> None:
        self.written += records
        self.tell()

    def tell(self) -> None:
        self._phase.update(self.written, read=self.read, pages=self._pages.read())
