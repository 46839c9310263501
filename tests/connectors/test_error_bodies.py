"""The first line of an error body that is not JSON: always one short, non-empty line."""

from hypothesis import given
from hypothesis import strategies as st

from connectors._retry import FIRST_LINE_CHARS, first_line


@given(st.one_of(st.none(), st.text(), st.binary()))
def test_any_body_gives_one_short_line(body: str | bytes | None) -> None:
    """Whatever a gateway sends (text, bytes in any encoding, nothing), the message stays one line."""
    line = first_line(body)
    assert line and "\n" not in line and "\r" not in line and len(line) <= FIRST_LINE_CHARS


def test_an_html_page_gives_its_title_and_text_its_first_line() -> None:
    """A gateway page is named by its title; plain text by its first non-blank line; nothing says so."""
    assert first_line(b"<html><head><title>502 Bad Gateway</title></head><body><h1>x</h1></body></html>") == (
        "502 Bad Gateway")
    assert first_line("\n\n  Service Unavailable  \nretry later") == "Service Unavailable"
    assert first_line(b"<h1>Upstream &amp; origin down</h1>") == "Upstream & origin down"
    assert first_line(b"") == "(empty body)"
