"""What the SMTP sender does with replies that are temporary, multi-line, empty or not SMTP at all."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from config.settings import SmtpSettings
from notify.smtp import MessageRefused, ServerUnavailable, SmtpSender
from tests.notify.conftest import RecordingHandler, SmtpServer, free_port


def message() -> EmailMessage:
    letter = EmailMessage()
    letter["From"], letter["To"], letter["Subject"] = "warden@example.com", "maria@example.com", "Digest"
    letter.set_content("4 open items")
    return letter


def sender(port: int, sleeps: list[float]) -> SmtpSender:
    settings = SmtpSettings.model_validate({"host": "127.0.0.1", "port": port, "sender": "warden@example.com"})
    return SmtpSender(settings, timeout=5, sleep=sleeps.append)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer(handler, port)
    controller.stop()


def test_a_temporary_refusal_is_retried_after_a_pause(server: SmtpServer) -> None:
    """A 451 "try again later" on the first try is sent again after a backoff and delivered once."""
    server.handler.fail = lambda n, env: "451 Requested action aborted: local error" if n == 0 and not sleeps else None
    sleeps: list[float] = []
    with sender(server.port, sleeps) as smtp:
        smtp.send(message())
    assert len(server.handler.messages) == 1 and len(sleeps) == 1


def test_a_permanent_multi_line_refusal_names_its_first_line_only(server: SmtpServer) -> None:
    """A 554 spanning several lines is refused at once, shown by its first line."""
    server.handler.fail = lambda n, env: "554-Message rejected\r\n554-see https://example.com/policy\r\n554 bye"
    sleeps: list[float] = []
    with sender(server.port, sleeps) as smtp, pytest.raises(MessageRefused) as raised:
        smtp.send(message())
    assert str(raised.value) == "server answered 554 Message rejected" and sleeps == []


def test_a_temporary_refusal_that_persists_ends_as_refused(server: SmtpServer) -> None:
    """A server that keeps answering 421-style 4xx replies is tried three times, then the message is refused."""
    server.handler.fail = lambda n, env: "452 Insufficient system storage"
    sleeps: list[float] = []
    with sender(server.port, sleeps) as smtp, pytest.raises(MessageRefused, match="452 Insufficient system storage"):
        smtp.send(message())
    assert len(sleeps) == 2


@pytest.fixture
def not_smtp() -> Iterator[int]:
    """A server that answers every connection with an HTTP gateway page, as a proxy on the wrong port does."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n"
                             b"<html><head><title>502 Bad Gateway</title></head></html>\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()


def test_a_server_that_is_not_smtp_is_unavailable_in_one_line(not_smtp: int) -> None:
    """An HTML page where an SMTP greeting should be is reported in one line, not a traceback."""
    with sender(not_smtp, []) as smtp, pytest.raises(ServerUnavailable) as raised:
        smtp.send(message())
    assert "not SMTP" in str(raised.value) and "502 Bad Gateway" in str(raised.value)
    assert "\n" not in str(raised.value)
