"""Error answers whose body is not JSON: what a load balancer or proxy in front of an org sends."""

GATEWAY_PAGE = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
RAW_PAGES: dict[str, tuple[int, str, bytes]] = {
    "HTML_502": (502, "text/html", GATEWAY_PAGE),
    "TEXT_503": (503, "text/plain", b"Service Unavailable\nThe server is down for maintenance."),
    "EMPTY_500": (500, "text/plain", b""),
    "TEXT_400": (400, "text/plain", b"Bad Request\nThe request could not be understood."),
}
"""Faults answered with a body that is not JSON, as a load balancer or proxy in front of the org sends."""
