"""A leaner way through requests for the cluster's own APIs (Docker's and Consul's HTTP sessions).

`requests.Session.prepare_request` merges the session's cookies, headers, parameters and authentication
into each request, most of it through requests' runtime Protocol checks, about 90-110 us of CPU a call,
half of which is merging what these sessions never hold (cookies, parameters, authentication), and
`merge_environment_settings` merges proxies, verify and cert the same way on every call. `lean` gives a
session versions of both that make the same PreparedRequest in the same steps and the same settings,
without those merges while the session and the request hold none of them, and requests' own otherwise
(a cookie a server set, an authenticated request, a proxy): the same request on the wire either way
(tests/networks/engine/test_sessions.py compares them)."""

from __future__ import annotations

import functools

import requests
from requests.cookies import RequestsCookieJar
from requests.models import PreparedRequest
from requests.sessions import merge_hooks
from requests.structures import CaseInsensitiveDict


def lean(session: requests.Session) -> requests.Session:
    """`session`, preparing its requests through `prepared` and merging their settings through `settings`
    from now on."""
    session.prepare_request = functools.partial(prepared, session)  # type: ignore[method-assign]
    session.merge_environment_settings = functools.partial(settings, session)  # type: ignore[method-assign]
    return session


def settings(session: requests.Session, url, proxies, stream, verify, cert) -> dict:
    """What `session.merge_environment_settings` answers for a session that does not read the environment
    (trust_env off, as the cluster's clients are) and holds no proxy: each of the request's settings, or the
    session's where the request has none."""
    if session.trust_env or session.proxies or proxies:
        return requests.Session.merge_environment_settings(session, url, proxies, stream, verify, cert)

    def either(asked, held):
        return held if asked is None else asked

    return {
        "proxies": {},
        "stream": either(stream, session.stream),
        "verify": either(verify, session.verify),
        "cert": either(cert, session.cert),
    }


def prepared(session: requests.Session, request: requests.Request) -> PreparedRequest:
    """What `session.prepare_request(request)` makes: PreparedRequest.prepare's steps, in its order, with the
    session's headers under the request's, and no cookie, parameter or authentication to merge."""
    url = request.url
    if url is None or request.cookies or session.cookies or request.auth or session.auth or session.params:
        return requests.Session.prepare_request(session, request)
    headers: CaseInsensitiveDict = CaseInsensitiveDict(session.headers)
    headers.update(dict(request.headers or {}))
    for name in [name for name, value in headers.items() if value is None]:  # None removes it, as requests' merge
        del headers[name]
    p = PreparedRequest()
    p.prepare_method(request.method.upper() if request.method else request.method)
    p.prepare_url(url, request.params)
    p.prepare_headers(headers)
    p._cookies = RequestsCookieJar()  # what requests' redirects read; an empty jar adds no Cookie header
    p.prepare_body(request.data, request.files, request.json)
    p.prepare_auth(None, url)  # credentials in the URL, as requests does
    p.prepare_hooks(merge_hooks(request.hooks, session.hooks))
    return p
