"""Secrets that hide inside text: a password in a URL's user part, a token in its query string.

Every message that may carry a URL (a settings error, a login failure, a log line, an error the
ledger keeps) goes through :func:`mask_url_secrets` before anyone sees it.
"""

from __future__ import annotations

import re

MASK = "***"

_USERINFO_PASSWORD = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@?#]*:)[^\s/?#]*(?=@[^\s/?#@]*(?:[/?#\s]|$))"
)
"""The password runs to the authority's last ``@``, so one written unencoded (``p@ss``) is masked whole."""
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&](?:password|passwd|pwd|secret|client_secret|token|access_token|refresh_token|api_key|apikey)=)"
    r"[^&#\s]*",
    re.IGNORECASE,
)


def mask_url_secrets(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` and secret query values as ``***``."""
    masked = _USERINFO_PASSWORD.sub(rf"\g<head>{MASK}", text)
    return _QUERY_SECRET.sub(rf"\g<head>{MASK}", masked)
