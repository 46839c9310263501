"""Getting a Salesforce access token: OAuth client credentials, JWT bearer, or a token given outright.

simple-salesforce builds its token URL from ``https://{domain}.salesforce.com``, which cannot point
at a My Domain URL with a port or at a test server, so the two OAuth flows post to
``{SALESFORCE_LOGIN_URL}/services/oauth2/token`` here and hand simple-salesforce the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import jwt
import requests

from connectors._retry import first_line
from connectors.salesforce.settings import SalesforceSettings
from domain.errors import CredentialsError, RetriableConnectorError
from domain.secrets import mask_url_secrets

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class SalesforceToken:
    instance_url: str
    access_token: str = field(repr=False)


class TokenSource(Protocol):
    def token(self) -> SalesforceToken:
        """A token to use now; a login flow asks Salesforce for a new one on every call."""
        ...

    @property
    def can_refresh(self) -> bool: ...


@dataclass(frozen=True)
class GivenToken:
    """``SALESFORCE_ACCESS_TOKEN`` + ``SALESFORCE_INSTANCE_URL``: used as is, never refreshed."""

    given: SalesforceToken
    can_refresh: bool = False

    def token(self) -> SalesforceToken:
        return self.given


def _post_token(http: requests.Session, login_url: str, data: dict[str, str]) -> SalesforceToken:
    url = f"{login_url.rstrip('/')}/services/oauth2/token"
    shown = mask_url_secrets(url)
    try:
        response = http.post(url, data=data, timeout=60)
    except requests.RequestException as exc:
        raise RetriableConnectorError(f"cannot reach the Salesforce login URL {shown}: {type(exc).__name__}") from None
    if response.status_code >= 500:
        raise RetriableConnectorError(
            f"Salesforce login at {shown} failed with HTTP {response.status_code} ({first_line(response.content)})")
    body = _json_object(response)
    if response.status_code != 200 or "access_token" not in body or "instance_url" not in body:
        described = body.get("error_description") or (first_line(response.content) if not body else "no description")
        reason = f"HTTP {response.status_code} {body.get('error', '')} ({described})".replace("  ", " ")
        raise CredentialsError(
            f"Salesforce login at {shown} was refused: {reason}; check SALESFORCE_LOGIN_URL, SALESFORCE_CLIENT_ID "
            "and the client secret or private key, and that the connected app allows this flow"
        )
    return SalesforceToken(instance_url=str(body["instance_url"]), access_token=str(body["access_token"]))


def _json_object(response: requests.Response) -> dict[str, Any]:
    """The answer's JSON object; an empty or non-JSON answer (a proxy's error page) gives an empty one."""
    try:
        body = response.json() if response.content else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@dataclass(frozen=True)
class ClientCredentials:
    """OAuth 2.0 client-credentials flow (the connected app runs as its configured user)."""

    http: requests.Session
    login_url: str
    client_id: str
    client_secret: str = field(repr=False)
    can_refresh: bool = True

    def token(self) -> SalesforceToken:
        data = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret}
        return _post_token(self.http, self.login_url, data)


@dataclass(frozen=True)
class JwtBearer:
    """OAuth 2.0 JWT bearer flow: a short assertion signed with the connected app's private key."""

    http: requests.Session
    login_url: str
    client_id: str
    username: str
    private_key: str = field(repr=False)
    clock: Clock
    can_refresh: bool = True

    def token(self) -> SalesforceToken:
        claims = {
            "iss": self.client_id,
            "sub": self.username,
            "aud": jwt_audience(self.login_url),
            "exp": int((self.clock() + timedelta(minutes=3)).timestamp()),
        }
        assertion = jwt.encode(claims, self.private_key, algorithm="RS256")
        data = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
        return _post_token(self.http, self.login_url, data)


def jwt_audience(login_url: str) -> str:
    """Salesforce wants login or test.salesforce.com as the audience even when logging in through My Domain."""
    host = urlparse(login_url).hostname or ""
    if host.endswith(".my.salesforce.com"):
        return "https://test.salesforce.com" if ".sandbox." in host else "https://login.salesforce.com"
    return login_url.rstrip("/")


def _private_key(path: Path) -> str:
    """The PEM private key the JWT flow signs with, checked by signing once so a bad file fails at start."""
    try:
        key = path.read_bytes().decode("ascii")
        jwt.encode({"check": True}, key, algorithm="RS256")
    except OSError as exc:
        raise CredentialsError(f"SALESFORCE_PRIVATE_KEY_FILE: cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, ValueError, TypeError, jwt.PyJWTError):
        raise CredentialsError(
            f"SALESFORCE_PRIVATE_KEY_FILE: {path} is not a PEM RSA private key (-----BEGIN PRIVATE KEY-----): "
            "give the key of the connected app's certificate"
        ) from None
    return key


def token_source(settings: SalesforceSettings, http: requests.Session, clock: Clock) -> TokenSource:
    """Pick the flow the settings allow: JWT, then client credentials, then a given token."""
    if settings.client_id and settings.username and settings.private_key_file:
        key = _private_key(settings.private_key_file)
        return JwtBearer(http, settings.login_url, settings.client_id, settings.username, key, clock)
    if settings.client_id and settings.client_secret:
        secret = settings.client_secret.get_secret_value()
        return ClientCredentials(http, settings.login_url, settings.client_id, secret)
    if settings.access_token and settings.instance_url:
        return GivenToken(SalesforceToken(settings.instance_url, settings.access_token.get_secret_value()))
    raise CredentialsError(
        "no Salesforce credentials: set SALESFORCE_CLIENT_ID + SALESFORCE_CLIENT_SECRET (client credentials), "
        "SALESFORCE_CLIENT_ID + SALESFORCE_USERNAME + SALESFORCE_PRIVATE_KEY_FILE (JWT bearer), or "
        "SALESFORCE_ACCESS_TOKEN + SALESFORCE_INSTANCE_URL"
    )
