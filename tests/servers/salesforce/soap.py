"""The fake server's SOAP endpoint: ``merge`` and ``undelete`` in the partner API's wire format.

A merge request names the master (``type``, ``Id``) and up to two ``recordToMergeIds``; each request
is its own transaction and the answer is HTTP 200 with one ``<result>`` per request even when some
failed. Faults (bad session, Opportunity merges, queued faults) are HTTP 500 SOAP faults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from tests.servers.salesforce.metadata import create_metadata
from tests.servers.salesforce.pages import RAW_PAGES

if TYPE_CHECKING:
    from tests.servers.salesforce.server import FakeSalesforce

SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
P = "{urn:partner.soap.sforce.com}"
S = "{urn:sobject.partner.soap.sforce.com}"
MERGEABLE = ("Account", "Contact", "Lead")


def _envelope(inner: str, namespace: str = 'xmlns="urn:partner.soap.sforce.com"') -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
        f'envelope/" {namespace} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"
    ).encode()


def fault(code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    inner = (f"<soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{escape(code)}: {escape(message)}"
             "</faultstring></soapenv:Fault>")
    namespace = 'xmlns:sf="urn:fault.partner.soap.sforce.com"'
    return 500, {"Content-Type": "text/xml;charset=UTF-8"}, _envelope(inner, namespace)


def _result(ok: bool, record_id: str | None, errors: list[tuple[str, str]], extra: str = "") -> str:
    errs = "".join(f"<errors><message>{escape(m)}</message><statusCode>{c}</statusCode></errors>" for c, m in errors)
    rid = f"<id>{record_id}</id>" if record_id else "<id xsi:nil=\"true\"/>"
    return f"<result>{errs}{rid}{extra}<success>{'true' if ok else 'false'}</success></result>"


def handle(fake: FakeSalesforce, action: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    root = ElementTree.fromstring(body)
    session = root.findtext(f".//{P}sessionId") or ""
    if session not in fake.tokens:
        return fault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session")
    queued = fake.take_fault("Soap")
    if queued and queued.code in RAW_PAGES:
        status, content_type, page = RAW_PAGES[queued.code]
        return status, {"Content-Type": content_type}, page
    if queued and not queued.after:
        return fault(queued.code, "injected fault")
    fake.api_used += 1
    call = root.find(f"{{{SOAPENV}}}Body/*")
    if action == "merge" and call is not None and call.tag == f"{P}merge":
        answer = _merge(fake, call)
    elif action == "undelete" and call is not None and call.tag == f"{P}undelete":
        answer = _undelete(fake, call)
    else:
        return fault("INVALID_OPERATION", f"unsupported SOAPAction {action!r}")
    if queued:
        return fault(queued.code, "injected fault after the call took effect")
    return answer


def handle_metadata(fake: FakeSalesforce, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """The Metadata API endpoint (``/services/Soap/m/NN.0``): session check, faults, ``createMetadata``."""
    session = ElementTree.fromstring(body).findtext(".//{http://soap.sforce.com/2006/04/metadata}sessionId") or ""
    if session not in fake.tokens:
        return fault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session")
    queued = fake.take_fault("Soap")
    if queued and queued.code in RAW_PAGES:
        status, content_type, page = RAW_PAGES[queued.code]
        return status, {"Content-Type": content_type}, page
    fake.api_used += 1
    return create_metadata(fake.org, body)


def _merge(fake: FakeSalesforce, call: Any) -> tuple[int, dict[str, str], bytes]:
    requests = call.findall(f"{P}request")
    if len(requests) > 200:
        return fault("LIMIT_EXCEEDED", "Too many requests in one merge call: 200 at most")
    parts = []
    for request in requests:
        sobject = request.findtext(f"{P}masterRecord/{S}type") or ""
        master = request.findtext(f"{P}masterRecord/{S}Id") or ""
        losers = [e.text or "" for e in request.findall(f"{P}recordToMergeIds")]
        if sobject not in MERGEABLE:
            return fault("INVALID_TYPE_FOR_OPERATION", f"entity type {sobject} does not support merge")
        if not 1 <= len(losers) <= 2:
            parts.append(_result(False, master, [("INVALID_OPERATION", "merge takes one or two records to merge")]))
            continue
        if not fake.org.may(sobject, "merge"):
            parts.append(_result(False, master, [("INSUFFICIENT_ACCESS_OR_READONLY",
                                                  "insufficient access rights on object id")]))
            continue
        outcome = fake.org.merge(sobject, master, losers)
        extra = "".join(f"<mergedRecordIds>{i}</mergedRecordIds>" for i in outcome.get("merged", []))
        extra += "".join(f"<updatedRelatedIds>{i}</updatedRelatedIds>" for i in outcome.get("related", []))
        parts.append(_result(outcome["success"], master, outcome.get("errors", []), extra))
    inner = f"<mergeResponse>{''.join(parts)}</mergeResponse>"
    return 200, {"Content-Type": "text/xml;charset=UTF-8"}, _envelope(inner)


def _undelete(fake: FakeSalesforce, call: Any) -> tuple[int, dict[str, str], bytes]:
    parts = []
    for element in call.findall(f"{P}ids"):
        record_id = element.text or ""
        ok, code = fake.org.undelete(record_id)
        parts.append(_result(ok, record_id, [] if ok else [(code, "entity is not in the recycle bin")]))
    inner = f"<undeleteResponse>{''.join(parts)}</undeleteResponse>"
    return 200, {"Content-Type": "text/xml;charset=UTF-8"}, _envelope(inner)
