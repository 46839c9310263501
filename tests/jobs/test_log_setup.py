import io
import json
import sys

import pytest
import structlog

from jobs import log_setup as warden_logging


@pytest.fixture(autouse=True)
def _reset() -> None:
    yield
    structlog.reset_defaults()


def test_secrets_never_reach_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys naming a secret are blanked and bearer tokens inside messages are cut out, in the JSON output."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    warden_logging.configure(json_output=True)
    structlog.get_logger("t").info(
        "crm.call", access_token="00Dxx!AR8.secret", client_secret="s3cr3t", Authorization="Bearer abc.def",
        detail="retrying with Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", record_id="006A",
    )
    line = json.loads(stream.getvalue())
    assert line["access_token"] == line["client_secret"] == line["Authorization"] == "[redacted]"
    assert line["detail"] == "retrying with Bearer [redacted]"
    assert line["record_id"] == "006A" and line["event"] == "crm.call"
    assert "s3cr3t" not in stream.getvalue() and "eyJhbGci" not in stream.getvalue()


def test_passwords_inside_urls_never_reach_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL's password (a login URL, a database URL) is masked in any logged value, nested ones too."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    warden_logging.configure(json_output=True)
    structlog.get_logger("t").error(
        "run.failed", error="cannot reach https://admin:hunter2@login.example.com/services/oauth2/token",
        urls=["postgresql://warden:pa%40ss@db/warden"], where={"broker": "redis://:r3dis@cache:6379/0"},
    )
    line = json.loads(stream.getvalue())
    assert line["error"] == "cannot reach https://admin:***@login.example.com/services/oauth2/token"
    assert line["urls"] == ["postgresql://warden:***@db/warden"]
    assert line["where"] == {"broker": "redis://:***@cache:6379/0"}
    for secret in ("hunter2", "pa%40ss", "r3dis"):
        assert secret not in stream.getvalue()
