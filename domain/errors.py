"""Connector errors, grouped by what the caller should do about them.

Vendor exceptions are translated into these at each connector's boundary, so jobs never import
``simple_salesforce`` or ``hubspot`` to decide whether to retry, skip or stop.
"""


class ConnectorError(Exception):
    """Root of every error a connector raises."""


class FatalConnectorError(ConnectorError):
    """Retrying cannot help (bad credentials, bad configuration): stop the run and say how to fix it."""


class CredentialsError(FatalConnectorError):
    """The credentials are missing, malformed, or refused by the CRM: bad input, fixed in the settings."""


class RetriableConnectorError(ConnectorError):
    """A passing fault (lock contention, 5xx, a dropped connection): the same call may succeed later."""


class BudgetExhausted(ConnectorError):
    """The org's API allowance (or our share of it) is spent: stop cleanly, resume next run."""


class RecordError(ConnectorError):
    """One record was refused; the rest of the run goes on."""

    def __init__(self, record_id: str, message: str) -> None:
        super().__init__(f"{record_id}: {message}")
        self.record_id = record_id
