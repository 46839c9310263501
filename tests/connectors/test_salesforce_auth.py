from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.salesforce import SalesforceConnector, SalesforceSettings
from connectors.salesforce._auth import ClientCredentials, jwt_audience, token_source
from domain.errors import CredentialsError
from tests.connectors.sf_fixtures import Seeded, connect, fake, seeded, sf_server
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["fake", "seeded", "sf_server"]


def test_jwt_bearer_login_signs_with_the_private_key_file(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded, tmp_path: Path
) -> None:
    """With a client id, username and key file the connector logs in by JWT bearer and reads."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    (tmp_path / "key.pem").write_bytes(pem)
    fake.jwt_public_key = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    try:
        sf = connect(fake, sf_server[1], settings={"client_secret": None, "username": "bot@example.com",
                                                   "private_key_file": tmp_path / "key.pem"})
        assert {o.id for o in sf.owners()} >= {seeded["rep"], seeded["queue"]}
    finally:
        fake.jwt_public_key = None


def test_tls_trust_follows_requests_ca_bundle(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connector built from settings alone trusts the CA named in REQUESTS_CA_BUNDLE."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sf_server[1])
    settings = SalesforceSettings(login_url=fake.url, client_id=fake.client_id, client_secret=fake.client_secret)
    assert SalesforceConnector.from_settings(settings, sleep=lambda _: None).owners()


def test_a_refused_login_is_fatal_names_the_settings_and_hides_the_secret(
    fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str]
) -> None:
    """A wrong client secret stops the run with invalid_client and the variables to check, never the secret."""
    sf = connect(fake, sf_server[1], settings={"client_secret": "not-the-secret"})
    with pytest.raises(CredentialsError, match="invalid_client") as caught:
        sf.owners()
    assert "SALESFORCE_CLIENT_ID" in str(caught.value) and "not-the-secret" not in str(caught.value)


def test_missing_credentials_say_which_variables_to_set() -> None:
    """Settings without any way to log in name the three accepted combinations."""
    settings = SalesforceSettings(client_id=None, client_secret=None, access_token=None, instance_url=None,
                                  username=None, private_key_file=None)
    with pytest.raises(CredentialsError, match="SALESFORCE_ACCESS_TOKEN \\+ SALESFORCE_INSTANCE_URL"):
        SalesforceConnector.from_settings(settings)


def test_an_unreadable_key_file_is_named(tmp_path: Path) -> None:
    """A JWT key path that does not exist is reported with its variable and path."""
    settings = SalesforceSettings(client_id="app", username="bot@example.com", private_key_file=tmp_path / "no.pem")
    with pytest.raises(CredentialsError, match=r"SALESFORCE_PRIVATE_KEY_FILE: .*no\.pem"):
        SalesforceConnector.from_settings(settings)


def test_secrets_stay_out_of_reprs() -> None:
    """Printing a token source or settings never shows the client secret."""
    settings = SalesforceSettings(client_id="app", client_secret="s3cret-value")
    source = token_source(settings, requests.Session(), lambda: datetime(2026, 5, 1, tzinfo=UTC))
    assert isinstance(source, ClientCredentials) and "s3cret-value" not in repr(source)


@pytest.mark.parametrize(
    ("login_url", "audience"),
    [("https://login.salesforce.com", "https://login.salesforce.com"),
     ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
     ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
     ("https://test.salesforce.com/", "https://test.salesforce.com")],
)
def test_jwt_audience_is_the_login_server_salesforce_expects(login_url: str, audience: str) -> None:
    """My Domain logins still sign for login.salesforce.com, sandboxes for test.salesforce.com."""
    assert jwt_audience(login_url) == audience
