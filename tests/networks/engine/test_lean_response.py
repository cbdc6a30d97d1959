"""networks/engine/lean_response.py: the kept-alive connections' answers, their header lines split without the
email package, are read as http.client reads them.

A server on 127.0.0.1 answers each request with raw bytes written here (chunked, Content-Length, a connection
ended after the answer, a 100 Continue first, headers in any case, a refusal), and the answer read by
`LeanResponse` is compared with the one http.client's own `HTTPResponse` reads from the same bytes."""

from __future__ import annotations

import email.parser
import http.client
import io
import socket
import threading

import docker.errors
import pytest

from networks.engine import docker_plain
from networks.engine.kept_alive import kept_alive
from networks.engine.lean_response import LeanResponse, headers_read

OK_JSON = b'{"Id": "abc"}'


class RawServer:
    """Answers each request on a connection with the next of `answers` (bytes as they go on the wire)."""

    def __init__(self, answers: list[bytes]):
        self.answers = list(answers)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.answers:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with sock, sock.makefile("rb") as requests:
                while self.answers:
                    if not _request_read(requests):
                        break
                    answer = self.answers.pop(0)
                    sock.sendall(answer)
                    if b"connection: close" in answer.lower():
                        break

    def close(self) -> None:
        self.listener.close()


def _request_read(requests) -> bool:
    """Reads one request (its head and its Content-Length body); False when the client has gone."""
    length = 0
    while True:
        line = requests.readline()
        if not line:
            return False
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
        if line == b"\r\n":
            break
    requests.read(length)
    return True


@pytest.fixture
def served():
    servers: list[RawServer] = []

    def serve(*answers: bytes) -> RawServer:
        servers.append(RawServer(list(answers)))
        return servers[-1]

    yield serve
    for server in servers:
        server.close()


def lean(answer: bytes, method: str = "GET") -> LeanResponse:
    """`answer` read as a kept-alive connection reads it."""
    return _read(LeanResponse, answer, method)


def stock(answer: bytes, method: str = "GET") -> http.client.HTTPResponse:
    return _read(http.client.HTTPResponse, answer, method)


def _read(response_class, answer: bytes, method: str):
    class Sock:
        def makefile(self, mode):
            return io.BytesIO(answer)

    response = response_class(Sock(), method=method)
    response.begin()
    return response


def as_read(response: http.client.HTTPResponse) -> tuple:
    """All that a caller of http.client sees of an answer."""
    body = response.read()
    return (
        response.status,
        response.reason,
        response.version,
        response.getheaders(),
        response.headers.as_string(),
        response.chunked,
        response.length,
        response.will_close,
        body,
    )


CONTENT_LENGTH = (
    b"HTTP/1.1 201 Created\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nDocker-Experimental: false\r\n"
    b"Server: Docker/20.10.24+dfsg1 (linux)\r\nDate: Sat, 05 Dec 2026 22:33:05 GMT\r\nContent-Length: 13\r\n\r\n"
    + OK_JSON
)
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTRANSFER-ENCODING: Chunked\r\n\r\n"
    b"5\r\n" + OK_JSON[:5] + b"\r\n8\r\n" + OK_JSON[5:] + b"\r\n0\r\n\r\n"
)
CLOSING = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
UNTIL_CLOSED = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end"
CONTINUED = b"HTTP/1.1 100 Continue\r\nX-Ignored: yes\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
NOTHING = b"HTTP/1.1 204 No Content\r\nDate: Sat, 05 Dec 2026 22:33:05 GMT\r\n\r\n"
ODD_FIELDS = b"HTTP/1.1 200 OK\r\nX-Empty:\r\nx-lower:  spaced  \r\nX-Tab:\tv\nContent-Length: 2\r\n\r\nok"
FOLDED = b"HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 2\r\n\r\nok"
NOT_A_FIELD = b"HTTP/1.1 200 OK\r\nX-Before: 1\r\nnot a field\r\nX-After: 2\r\nContent-Length: 2\r\n\r\nok"
STRAY_CR = b"HTTP/1.1 200 OK\r\nX-Cr: a\rb\r\nContent-Length: 2\r\n\r\nok"
LATIN = b"HTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\nContent-Length: 2\r\n\r\nok"


@pytest.mark.parametrize(
    "answer",
    [
        CONTENT_LENGTH,
        CHUNKED,
        CLOSING,
        UNTIL_CLOSED,
        CONTINUED,
        NOTHING,
        ODD_FIELDS,
        FOLDED,
        NOT_A_FIELD,
        STRAY_CR,
        LATIN,
    ],
    ids=[
        "length",
        "chunked",
        "close",
        "until-closed",
        "continue",
        "204",
        "odd",
        "folded",
        "not-a-field",
        "cr",
        "latin",
    ],
)
def test_an_answer_reads_as_http_clients_own(answer):
    assert as_read(lean(answer)) == as_read(stock(answer))
    assert as_read(lean(answer, "HEAD")) == as_read(stock(answer, "HEAD"))


def test_plain_header_lines_are_split_without_the_email_parser(monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("the email parser was asked")

    monkeypatch.setattr(email.parser.Parser, "parsestr", refused)
    for answer in (CONTENT_LENGTH, CHUNKED, CLOSING, CONTINUED, NOTHING, ODD_FIELDS, LATIN):
        assert lean(answer).status in (200, 201, 204)
    with pytest.raises(AssertionError, match="email parser"):
        lean(FOLDED)


def test_headers_are_found_in_any_case():
    headers = lean(CHUNKED).headers
    assert headers.get("transfer-encoding") == headers["Transfer-Encoding"] == "Chunked"
    assert lean(ODD_FIELDS).getheader("X-LOWER") == "spaced  "
    assert lean(LATIN).getheader("x-name") == "café"


def test_too_long_a_line_or_too_many_lines_is_refused_as_http_client_refuses_it():
    long_line = b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n"
    many = b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n"
    for answer, error in ((long_line, http.client.LineTooLong), (many, http.client.HTTPException)):
        with pytest.raises(error) as ours:
            lean(answer)
        with pytest.raises(error) as theirs:
            stock(answer)
        assert str(ours.value) == str(theirs.value)
    assert headers_read(io.BytesIO(b"X-Cut: 1\r\n")).items() == [("X-Cut", "1")]  # the answer ended mid-block


def test_a_kept_alive_connection_reads_lean_answers_and_is_kept_or_ended_as_they_say(served):
    server = served(CONTENT_LENGTH, CHUNKED, CLOSING, CONTENT_LENGTH)
    address = ("lean", server.port)
    statuses, bodies = [], []
    for _ in range(4):
        connection = kept_alive(address, lambda: http.client.HTTPConnection("127.0.0.1", server.port, timeout=5))
        connection.request("GET", "/")
        answer = connection.getresponse()
        assert isinstance(answer, LeanResponse)
        statuses.append(answer.status)
        bodies.append(answer.read())
        if answer.will_close:
            connection.close()
    assert statuses == [201, 200, 200, 201]
    assert bodies == [OK_JSON, OK_JSON, b"ok", OK_JSON]
    assert server.connections == 2  # the one ended by `Connection: close`, then a new one


def test_a_refusal_read_lean_carries_its_headers_into_the_sdks_exception(served):
    body = b'{"message": "network n0 not found"}'
    refusal = (
        b"HTTP/1.1 404 Not Found\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    server = served(refusal)
    with pytest.raises(docker.errors.NotFound) as refused:
        docker_plain.call(docker_plain.Target("127.0.0.1", server.port), "GET", "/v1.41/networks/n0", timeout=5)
    response = refused.value.response
    assert (response.status_code, response.reason) == (404, "Not Found")
    assert response.headers["api-version"] == "1.41"
    assert response.headers["Content-Type"] == "application/json"
    assert refused.value.explanation == "network n0 not found"
