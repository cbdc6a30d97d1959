"""`make run`'s local webhook receiver (scripts/webhook_receiver.py), run as scripts/serve runs it: it keeps what
is POSTed to /hooks/NAME, answers 500 when asked to, and says of each delivery whether the portal's signature
(webhooks/signing.py) checks out with a secret pasted on its page."""

from __future__ import annotations

import datetime
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from webhooks.signing import secret_new, signed_headers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "scripts/webhook_receiver.py", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.trust_env = False
    deadline = time.monotonic() + 20
    while True:
        try:
            session.get(f"{url}/", timeout=1)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "the receiver did not start"
            time.sleep(0.1)
    yield url, session
    process.terminate()
    process.wait(timeout=10)


def send(session, url: str, secret: str, message_id: str, *, path: str = "/hooks/demo", tamper: bool = False):
    body = json.dumps({"type": "network.create", "team": "blue", "data": {"object": {"name": "web"}}}).encode()
    headers = signed_headers(
        message_id=message_id, at=datetime.datetime.now(datetime.UTC), body=body, secrets_in_use=[secret]
    )
    return session.post(url + path, data=body + (b" " if tamper else b""), headers=headers, timeout=5)


def test_it_keeps_deliveries_and_checks_their_signatures_with_a_pasted_secret(receiver):
    url, session = receiver
    secret, other = secret_new(), secret_new()
    assert send(session, url, secret, "msg_1").status_code == 204
    assert send(session, url, secret, "msg_2", path="/hooks/demo?fail=500").status_code == 500
    assert send(session, url, secret, "msg_3", tamper=True).status_code == 204
    session.post(f"{url}/hooks/bare", data=b"{}", timeout=5)

    def signatures() -> dict[str, str]:
        rows = session.get(f"{url}/deliveries.json", timeout=5).json()
        return {row["headers"].get("webhook-id", row["path"]): row["signature"] for row in rows}

    assert signatures()["msg_1"] == "not checked: paste the webhook's secret above"
    session.post(f"{url}/secrets", data={"secret": other}, timeout=5)
    assert signatures()["msg_1"] == "does not match any secret given"
    session.post(f"{url}/secrets", data={"secret": secret}, timeout=5)
    assert signatures() == {
        "/hooks/bare": "not signed: webhook-id, webhook-timestamp or webhook-signature is missing",
        "msg_3": "does not match any secret given",
        "msg_2": f"verified with the secret ending {secret[-4:]}",
        "msg_1": f"verified with the secret ending {secret[-4:]}",
    }
    rows = session.get(f"{url}/deliveries.json", timeout=5).json()
    assert [row["answered"] for row in rows] == [204, 204, 500, 204]
    assert rows[-1]["type"] == "network.create" and rows[-1]["object"] == "web" and rows[-1]["team"] == "blue"
    page = session.get(f"{url}/", timeout=5).text
    assert "verified with the secret ending" in page and "2 secret(s) given. 4 delivery(ies) kept" in page
    kept = session.get(f"{url}/kept", timeout=5).text  # what the page fetches every 2 s to follow
    assert kept in page and kept.count("<tr>") == 5
