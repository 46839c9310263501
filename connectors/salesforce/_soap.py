"""The two SOAP API calls the REST API lacks: ``merge`` and ``undelete`` (partner WSDL).

Requests are built with ElementTree so ids are escaped; answers come back as one ``SoapResult`` per
request, in order, because each request is its own transaction and may fail alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree

from connectors._retry import first_line
from connectors.salesforce._errors import translate

SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER = "urn:partner.soap.sforce.com"
SOBJECT = "urn:sobject.partner.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MERGE_LIMIT = 2
"""Records merged into the master per merge request (Salesforce allows a master plus two)."""

for _prefix, _ns in (("soapenv", SOAPENV), ("urn", PARTNER), ("urn1", SOBJECT), ("xsi", XSI)):
    ElementTree.register_namespace(_prefix, _ns)


@dataclass(frozen=True)
class SoapResult:
    id: str | None
    success: bool
    errors: tuple[tuple[str, str], ...] = ()
    """``(statusCode, message)`` pairs."""
    merged_ids: tuple[str, ...] = ()


def _el(parent: ElementTree.Element, ns: str, tag: str, text: str | None = None) -> ElementTree.Element:
    child = ElementTree.SubElement(parent, f"{{{ns}}}{tag}")
    child.text = text
    return child


def envelope(session_id: str, body: str) -> bytes:
    """Wrap a request body (an XML fragment from ``merge_body``/``undelete_body``) with the session header."""
    root = ElementTree.Element(f"{{{SOAPENV}}}Envelope")
    header = _el(_el(root, SOAPENV, "Header"), PARTNER, "SessionHeader")
    _el(header, PARTNER, "sessionId", session_id)
    _el(root, SOAPENV, "Body").append(ElementTree.fromstring(body))
    data: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def merge_body(sobject: str, master_id: str, loser_ids: Sequence[str]) -> str:
    """A ``merge`` call: one request per chunk of up to two losers, all into the same master."""
    call = ElementTree.Element(f"{{{PARTNER}}}merge")
    for start in range(0, len(loser_ids), MERGE_LIMIT):
        request = _el(call, PARTNER, "request")
        master = _el(request, PARTNER, "masterRecord")
        master.set(f"{{{XSI}}}type", "urn1:sObject")
        _el(master, SOBJECT, "type", sobject)
        _el(master, SOBJECT, "Id", master_id)
        for loser in loser_ids[start : start + MERGE_LIMIT]:
            _el(request, PARTNER, "recordToMergeIds", loser)
    return ElementTree.tostring(call, encoding="unicode")


def undelete_body(record_ids: Sequence[str]) -> str:
    call = ElementTree.Element(f"{{{PARTNER}}}undelete")
    for record_id in record_ids:
        _el(call, PARTNER, "ids", record_id)
    return ElementTree.tostring(call, encoding="unicode")


def parse_soap_response(status: int, content: bytes, what: str) -> ElementTree.Element:
    """The ``Body`` of a SOAP answer, or the translated error for a SOAP fault."""
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError:
        raise translate(status, "", first_line(content), what) from None
    body = root.find(f"{{{SOAPENV}}}Body")
    fault = body.find(f"{{{SOAPENV}}}Fault") if body is not None else None
    if body is None or fault is not None or status != 200:
        code = (fault.findtext("{*}faultcode", "") if fault is not None else "").split(":")[-1]
        message = fault.findtext("{*}faultstring", "") if fault is not None else "no SOAP body"
        raise translate(status, code, message, what)
    return body


def results(body: ElementTree.Element) -> list[SoapResult]:
    """One ``SoapResult`` per ``<result>`` of a merge or undelete answer, in request order."""

    def texts(node: ElementTree.Element, tag: str) -> tuple[str, ...]:
        return tuple(e.text or "" for e in node.findall(f"{{{PARTNER}}}{tag}"))

    parsed = []
    for node in body.iter(f"{{{PARTNER}}}result"):
        errors = tuple(
            (e.findtext(f"{{{PARTNER}}}statusCode", ""), e.findtext(f"{{{PARTNER}}}message", ""))
            for e in node.findall(f"{{{PARTNER}}}errors")
        )
        parsed.append(
            SoapResult(
                id=node.findtext(f"{{{PARTNER}}}id") or None,
                success=node.findtext(f"{{{PARTNER}}}success") == "true",
                errors=errors,
                merged_ids=texts(node, "mergedRecordIds"),
            )
        )
    return parsed
