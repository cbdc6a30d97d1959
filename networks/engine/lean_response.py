"""An `http.client` response whose header lines are read without the email package: the answers of the
kept-alive connections (kept_alive.py) to Docker's create and inspect and Consul's two puts.

http.client hands every answer's header block to `email.parser`: a feed parser built for mail (MIME
boundaries, folded lines, defects) that costs ~27 µs for Docker's seven short lines, against ~5 µs to
split them here; four answers a create, about 13% of a worker's run under cProfile. The lines are read
as http.client reads them (the same limits, the same `LineTooLong` and `HTTPException`) into the same
`http.client.HTTPMessage` (case-insensitive `get`, `get_all`, `items`: what `getheader`, `getheaders`
and the callers use), each field stored as the email parser stores it. A block with anything unusual in
it (a folded line, a line that is not `name: value`, a stray CR) is handed to the email parser whole, as
before, so its judgement of such blocks is kept.

Everything else is http.client's own `HTTPResponse.begin`, run as it is with this reader in place of
`http.client.parse_headers` (its one reader of a block): the status line, a 100 Continue skipped, the
HTTP version, chunked or Content-Length bodies, whether the connection is kept, and the errors raised.
"""

from __future__ import annotations

import email.parser
import http.client
import re
import types
from typing import BinaryIO

# http.client's own limits (its _MAXLINE and _MAXHEADERS): a longer line or more lines is an error.
MAX_LINE = 65536
MAX_HEADERS = 100
# A field as the email parser reads it in one line: a name of printable characters but the colon, then
# its value after any blanks, to the line's end (compat32 keeps the value's trailing blanks).
_FIELD = re.compile(rb"([!-9;-~]+):[ \t]*([^\r\n]*)\r?\n")
_ENDS = (b"\r\n", b"\n", b"")


def headers_read(fp: BinaryIO) -> http.client.HTTPMessage:
    """The header block at `fp` (after the status line, through the blank line), as
    `http.client.parse_headers` returns it."""
    lines = []
    while True:
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        if line in _ENDS:
            break
    message = http.client.HTTPMessage()
    for line in lines[:-1]:
        field = _FIELD.fullmatch(line)
        if field is None:
            block = b"".join(lines).decode("iso-8859-1")
            return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(block)
        message.set_raw(field[1].decode("iso-8859-1"), field[2].decode("iso-8859-1"))
    return message


if "parse_headers" not in http.client.HTTPResponse.begin.__code__.co_names:  # pragma: no cover
    raise ImportError("http.client.HTTPResponse.begin no longer reads headers with parse_headers")


class LeanResponse(http.client.HTTPResponse):
    """http.client's response, its header block read by `headers_read`."""

    begin = types.FunctionType(
        http.client.HTTPResponse.begin.__code__,
        {**vars(http.client), "parse_headers": headers_read},
        "begin",
    )
