"""Deliver messages over SMTP (plain, STARTTLS or SSL, with optional auth) from ``SmtpSettings``.

SMTP failures are translated into two errors by what the caller should do: ``ServerUnavailable``
(the connection is gone: stop for this run) and ``MessageRefused`` (this message was not
accepted: record it and go on). Either way the digest stays pending for the next run. A 4xx reply
is the server saying "try again later": the message is sent again after a short backoff before it
counts as refused. Replies are shown by their first line; something that is not an SMTP reply at
all (a proxy's HTML page, nothing) means there is no usable SMTP server there.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from types import TracebackType

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from config.settings import SmtpSettings

TIMEOUT_SECONDS = 30.0
TRANSIENT_TRIES = 3
"""Sends of one message the server answers with a 4xx ("try again later") before it counts as refused."""


class DeliveryError(Exception):
    """A message the server did not accept; the digest stays pending and the next run retries it."""


class ServerUnavailable(DeliveryError):
    """No usable connection to the SMTP server (refused, dropped, TLS or login failed)."""


class MessageRefused(DeliveryError):
    """The server answered this message with a 4xx or 5xx reply."""


class SmtpSender:
    """One SMTP session for a run's digests: ``with SmtpSender(settings) as sender: sender.send(msg)``."""

    def __init__(
        self, settings: SmtpSettings, tls_context: ssl.SSLContext | None = None, timeout: float = TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._tls = tls_context or ssl.create_default_context()
        self._timeout = timeout
        self._sleep = sleep
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server; raises ``DeliveryError`` unless every recipient was accepted.

        A 4xx reply is retried after a short backoff (``TRANSIENT_TRIES`` sends in all).
        """
        tries = Retrying(stop=stop_after_attempt(TRANSIENT_TRIES), wait=wait_exponential(multiplier=1, max=10),
                         retry=retry_if_exception(_transient), sleep=self._sleep, reraise=True)
        tries(self._send_once, message)

    def _send_once(self, message: EmailMessage) -> None:
        client = self._client or self._connect()
        try:
            refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MessageRefused(f"server refused every recipient: {_replies(exc.recipients)}") from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code < 0:
                self.close()
                raise ServerUnavailable(f"{self._where} answered something that is not SMTP: "
                                        f"{_text(exc.smtp_error)}") from exc
            raise _Transient(exc.smtp_code, _text(exc.smtp_error)) if 400 <= exc.smtp_code < 500 else MessageRefused(
                f"server answered {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._client = None
            raise ServerUnavailable(f"connection to {self._where} lost: {_text(str(exc))}") from exc
        if refused:
            raise MessageRefused(f"server refused some recipients: {_replies(refused)}")

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (smtplib.SMTPException, OSError):
                self._client.close()
            self._client = None

    @property
    def _where(self) -> str:
        return f"SMTP server {self._settings.host}:{self._settings.port}"

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        try:
            if settings.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=self._timeout, context=self._tls
                )
            else:
                client = smtplib.SMTP(settings.host, settings.port, timeout=self._timeout)
            if settings.security == "starttls":
                client.starttls(context=self._tls)
            if settings.username:
                password = settings.password.get_secret_value() if settings.password else ""
                client.login(settings.username, password)
        except smtplib.SMTPAuthenticationError as exc:
            raise ServerUnavailable(
                f"{self._where} refused the login of SMTP_USERNAME={settings.username!r} ({exc.smtp_code}): "
                "check SMTP_USERNAME and SMTP_PASSWORD"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            what = "something that is not SMTP" if exc.smtp_code < 0 else str(exc.smtp_code)
            raise ServerUnavailable(
                f"{self._where} answered {what} (SMTP_SECURITY={settings.security}): {_text(exc.smtp_error)}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ServerUnavailable(
                f"cannot reach {self._where} with SMTP_SECURITY={settings.security}: {_text(str(exc))}"
            ) from exc
        self._client = client
        return client


class _Transient(MessageRefused):
    """A 4xx reply: the server asks to try the message again later."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"server answered {code} {text} (a temporary refusal; tried {TRANSIENT_TRIES} times)")


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, _Transient)


def _text(reply: bytes | str) -> str:
    """The first line of a server reply (replies may span lines, or be an HTML page), never empty."""
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:200] or "(empty reply)"


def _replies(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address}: {code} {_text(reply)}" for address, (code, reply) in refused.items())
