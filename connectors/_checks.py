"""Checks the remote CRM packages' settings share: base URLs and hosts, nothing else.

A malformed one is refused when the settings are read, naming the variable, instead of failing
deep inside an HTTP library on the first call.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?")


def _http_url(value: str) -> str:
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname or any(c.isspace() for c in text):
        raise ValueError("should be an http(s) URL such as https://login.salesforce.com")
    return text


def _host_or_http_url(value: str) -> str:
    text = value.strip()
    return text if _HOST.fullmatch(text) else _http_url(text)


HttpUrl = Annotated[str, AfterValidator(_http_url)]
"""A CRM's base URL (login or API base): ``https://host[:port][/path]``."""
HostOrHttpUrl = Annotated[str, AfterValidator(_host_or_http_url)]
"""An org's instance: ``acme.my.salesforce.com`` or ``https://acme.my.salesforce.com``."""
