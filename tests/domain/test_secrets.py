"""Passwords inside URLs are masked wherever a message may carry one."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from domain.secrets import mask_url_secrets

PASSWORD = st.text(alphabet=string.ascii_letters + string.digits + "!$%&'()*+,;=:@-._~", min_size=6, max_size=30)
HOST = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}(:[0-9]{2,5})?", fullmatch=True)


@given(password=PASSWORD, host=HOST, scheme=st.sampled_from(["https", "postgresql+psycopg", "redis", "amqp"]),
       before=st.sampled_from(["", "cannot reach ", "error: "]), after=st.sampled_from(["", "/db", "/x?y=1", " then"]))
def test_a_url_password_never_survives(password: str, host: str, scheme: str, before: str, after: str) -> None:
    """Whatever characters the password holds (even an unencoded @ or :), none of it is left in the text."""
    text = f"{before}{scheme}://user:{password}@{host}{after}"
    masked = mask_url_secrets(text)
    assert masked == f"{before}{scheme}://user:***@{host}{after}"


def test_text_without_secrets_is_unchanged() -> None:
    """URLs without a password, e-mail addresses and plain words pass through."""
    for text in ("sqlite:///.warden/warden.db", "postgresql://warden@db/warden", "mail ops@example.com",
                 "https://host/path:with@colon", "no url here"):
        assert mask_url_secrets(text) == text
