#!/usr/bin/env python3
"""The local webhook receiver of `make run`: somewhere to point a webhook at on this machine, and a page that
shows what arrived and whether each signature checks out.

    scripts/webhook_receiver.py [--host 127.0.0.1] [--port 8020]

Add a webhook on the portal's Webhooks page with the URL http://127.0.0.1:8020/hooks/NAME (any NAME: it tells
endpoints apart). Each POST is kept (the last 200, in memory) and answered 204; `/hooks/NAME?fail=500` answers
500 instead, to watch the portal retry. Open http://127.0.0.1:8020/ to read them: paste the secret the portal
showed when the webhook was added, and each delivery says whether it was signed with it (the Standard
Webhooks signature of its id, timestamp and body, as docs/webhooks.md verifies it). `GET /deliveries.json`
gives the same to a script. A restart forgets everything.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import html
import json
import threading

import werkzeug.serving
from standardwebhooks.webhooks import Webhook
from werkzeug.wrappers import Request, Response

KEPT = 200

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Local webhook receiver</title>
<style>body{{font:15px system-ui,sans-serif;margin:2rem;color:#1b2430}}table{{border-collapse:collapse;width:100%}}
th,td{{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #dde3ea;vertical-align:top}}
code{{font-size:.85em}}.ok{{color:#116329}}.bad{{color:#a40e26}}input{{width:28rem}}</style></head>
<body><h1>Local webhook receiver</h1>
<p>Point a webhook at <code>http://{host}/hooks/NAME</code> on the portal's Webhooks page (<code>?fail=500</code>
answers 500, to watch the portal retry). Paste the secret it showed to check each delivery's signature.</p>
<form method="post" action="/secrets"><label>Secret <input name="secret" placeholder="whsec_..."
autocomplete="off" required></label> <button>Check signatures with it</button></form>
<div id="kept">{kept}</div>
<script>
// What arrived since, every 2 seconds, without reloading the page (the secret being typed stays).
setInterval(function () {{
  fetch("/kept").then(function (answer) {{ return answer.ok ? answer.text() : null; }})
    .then(function (kept) {{ if (kept !== null) document.getElementById("kept").innerHTML = kept; }})
    .catch(function () {{}});
}}, 2000);
</script></body></html>
"""
KEPT_PART = """<p>{secrets} secret(s) given. {count} delivery(ies) kept, newest first; the list follows by itself.</p>
<table><thead><tr><th>Received</th><th>Path</th><th>Answered</th><th>Event</th><th>Team</th><th>Object</th>
<th>webhook-id</th><th>Signature</th></tr></thead><tbody>{rows}</tbody></table>"""


class Receiver:
    """What arrived, and the secrets a person gave to check it with."""

    def __init__(self) -> None:
        self.deliveries: collections.deque[dict] = collections.deque(maxlen=KEPT)
        self.secrets: list[str] = []
        self.lock = threading.Lock()

    def keep(self, request: Request, answered: int) -> None:
        delivery = {
            "received": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "path": request.path,
            "answered": answered,
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "body": request.get_data(as_text=True),
        }
        with self.lock:
            self.deliveries.appendleft(delivery)

    def signature(self, delivery: dict) -> str:
        """Whether the delivery was signed with one of the secrets given: its headers' signatures against the
        one each secret makes of its id, timestamp and body (the timestamp's age is not held against it)."""
        headers = delivery["headers"]
        try:
            moment = datetime.datetime.fromtimestamp(int(headers["webhook-timestamp"]), datetime.UTC)
            given = set(headers["webhook-signature"].split())
            msg_id = headers["webhook-id"]
        except (KeyError, ValueError):
            return "not signed: webhook-id, webhook-timestamp or webhook-signature is missing"
        if not self.secrets:
            return "not checked: paste the webhook's secret above"
        for secret in self.secrets:
            try:
                if Webhook(secret).sign(msg_id, moment, delivery["body"]) in given:
                    return f"verified with the secret ending {secret[-4:]}"
            except Exception:  # a pasted text that is no secret: it matches nothing
                continue
        return "does not match any secret given"

    def described(self) -> list[dict]:
        with self.lock:
            deliveries = list(self.deliveries)
        rows = []
        for delivery in deliveries:
            try:
                body = json.loads(delivery["body"])
            except ValueError:
                body = {}
            body = body if isinstance(body, dict) else {}
            data = body.get("data") if isinstance(body.get("data"), dict) else {}
            target = data.get("object") if isinstance(data.get("object"), dict) else {}
            rows.append(
                {
                    **delivery,
                    "type": body.get("type", ""),
                    "team": body.get("team", ""),
                    "object": target.get("name") or target.get("target", ""),  # an operation names its target
                    "signature": self.signature(delivery),
                }
            )
        return rows


def application(receiver: Receiver, host: str):
    @Request.application
    def app(request: Request) -> Response:
        if request.method == "POST" and request.path.startswith("/hooks/"):
            answered = 500 if request.args.get("fail") == "500" else 204
            receiver.keep(request, answered)
            return Response("failing on purpose" if answered == 500 else None, status=answered)
        if request.method == "POST" and request.path == "/secrets":
            secret = request.form.get("secret", "").strip()
            if secret and secret not in receiver.secrets:
                receiver.secrets.append(secret)
            return Response(status=303, headers={"Location": "/"})
        if request.method == "GET" and request.path == "/deliveries.json":
            return Response(json.dumps(receiver.described()), content_type="application/json")
        if request.method == "GET" and request.path in ("/", "/kept"):
            rows = receiver.described()
            kept = KEPT_PART.format(secrets=len(receiver.secrets), count=len(rows), rows="".join(map(_row, rows)))
            page = kept if request.path == "/kept" else PAGE.format(host=html.escape(host), kept=kept)
            return Response(page, content_type="text/html; charset=utf-8")
        return Response("Nothing here: POST to /hooks/NAME, or open /.", status=404)

    return app


def _row(delivery: dict) -> str:
    verified = delivery["signature"].startswith("verified")
    cells = [delivery["received"], delivery["path"], str(delivery["answered"]), delivery["type"], delivery["team"],
             delivery["object"], delivery["headers"].get("webhook-id", "")]  # fmt: skip
    mark = "ok" if verified else "bad"
    return (
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells)
        + f'<td class="{mark}">{html.escape(delivery["signature"])}</td></tr>'
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8020)
    args = parser.parse_args()
    address = f"{args.host}:{args.port}"
    server = werkzeug.serving.make_server(args.host, args.port, application(Receiver(), address), threaded=True)
    print(f"Webhook receiver on http://{address}/ (POST to /hooks/NAME; the page shows what arrived)", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
