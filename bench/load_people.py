"""The people of bench/load.py, for locust: members who sign in through the login form and browse the
pages with the live parts those pages poll, and scripts that read the API with team tokens and now and
then create a network and remove it, waiting for each operation.

bench/load.py runs `locust -f bench/load_people.py --headless ...` with LOAD_PEOPLE naming a JSON file
of who they are (each member's login, each script's token, their team's networks and cluster) and
LOAD_SAMPLES naming the file every request is written to when the run ends, one row each:
[name, kind, start (s), milliseconds, error or null], with the time every person had arrived. The kinds:
  read    answered at once: pages, the live parts that answer at once (a list's refresh, an operation's
          row, the inspect view), the API's lists and records
  held    held by design until something changes: a detail page's status line and an operation's
          progress (long polls, up to 20 s)
  change  the login form's POST, a create and a remove (with ?wait=: held until the worker is done)
  closed  a request whose connection closed before any answer, sent again (see `closed`), not an error
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import time
import uuid
from pathlib import Path

import gevent
from geventhttpclient.response import HTTPConnectionClosed
from locust import FastHttpUser, between, events, task

PEOPLE = json.loads(Path(os.environ["LOAD_PEOPLE"]).read_text())
SAMPLES: list[list] = []
WAIT = 60  # seconds a create or remove may be held (?wait=)

MEASURED_FROM: list[float] = []  # when every person has arrived (the warm-up's end)
LIVE_WATCH = re.compile(r'<div class="live-watch" hx-get="([^"]*)" hx-headers=\'\{"X-Seen-Version": "(\w+)"\}\'')
STATUS_LINE = re.compile(r'<div id="network-status"[^>]*hx-get="([^"]*)"[^>]*"X-Seen-Version": "(\w+)"')
PROGRESS = re.compile(r'<div id="operation-progress"[^>]*hx-get="([^"]*)"[^>]*"X-Seen-Version": "(\w+)"')
OPERATION_ROW = re.compile(r'hx-get="(/operations/(\d+)/row/[^"]*)"')
OPERATION_LINK = re.compile(r'href="/operations/(\d+)/"')


@events.request.add_listener
def record(request_type, name, response_time, exception, context, start_time=None, **kwargs):
    kind = "closed" if isinstance(exception, HTTPConnectionClosed) else context.get("kind", "read")
    error = None if exception is None or kind == "closed" else f"{type(exception).__name__}: {exception}"[:200]
    SAMPLES.append([f"{request_type} {name}", kind, start_time, response_time, error])


@events.spawning_complete.add_listener
def arrived(user_count, **kwargs):
    MEASURED_FROM.append(time.time())


@events.quitting.add_listener
def write_samples(environment, **kwargs):
    with open(os.environ["LOAD_SAMPLES"], "w") as out:
        json.dump({"measured_from": MEASURED_FROM[0] if MEASURED_FROM else 0, "samples": SAMPLES}, out)


def closed(answer) -> bool:
    """The connection closed before any answer: gunicorn closes a kept-alive connection after 2 s idle,
    and a request sent as it does meets a closed socket. A browser sends it again, and so does a script
    (a POST with its Idempotency-Key, so that a second send is the same create)."""
    return answer.status_code == 0 and isinstance(getattr(answer, "error", None), HTTPConnectionClosed)


def ask(client, path: str, name: str, kind: str = "read", **kwargs):
    """A GET; an answer that is not 2xx is an error (locust counts it), and so is a connection's failure."""
    answer = client.get(path, name=name, context={"kind": kind}, **kwargs)
    return client.get(path, name=name, context={"kind": kind}, **kwargs) if closed(answer) else answer


class Member(FastHttpUser):
    """Someone with the portal open in a browser: a page, then what that page asks for by itself."""

    wait_time = between(2, 6)
    fixed_count = len(PEOPLE["members"])
    numbers = itertools.count()

    def on_start(self):
        self.me = PEOPLE["members"][next(self.numbers) % len(PEOPLE["members"])]
        self.holding = None  # the open page's long poll, as a browser holds one per page
        ask(self.client, "/login/", "/login/")
        csrf = next(cookie.value for cookie in self.client.cookiejar if cookie.name == "csrftoken")
        self.client.post(
            "/login/",
            data={"username": self.me["username"], "password": self.me["password"], "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{self.host}/login/"},
            name="/login/",
            context={"kind": "change"},
        )

    def page(self, path: str, name: str) -> str:
        """A page, then its live part's next look (as 10 s later: usually a 204, nothing changed)."""
        answer = ask(self.client, path, name)
        body = answer.text or ""
        watch = LIVE_WATCH.search(body)
        if watch:
            target = re.search(r'hx-target="#(\w+)"', body[watch.start() : watch.start() + 400]).group(1)
            headers = {"HX-Request": "true", "HX-Target": target, "X-Seen-Version": watch.group(2)}
            ask(self.client, html.unescape(watch.group(1)), f"{name} [live]", headers=headers)
        return body

    def hold(self, pattern: re.Pattern, body: str, name: str) -> None:
        """The page's long poll, beside what the person does next (one at a time, as one open page)."""
        found = pattern.search(body)
        if not found or (self.holding is not None and not self.holding.dead):
            return
        headers = {"HX-Request": "true", "X-Seen-Version": found.group(2)}
        self.holding = gevent.spawn(ask, self.client, html.unescape(found.group(1)), name, "held", headers=headers)

    @task(3)
    def dashboard(self):
        body = self.page("/", "/")
        for path, _ in OPERATION_ROW.findall(body)[:3]:  # an unfinished operation's row asks every second
            ask(self.client, html.unescape(path), "/operations/[id]/row/", headers={"HX-Request": "true"})

    @task(3)
    def networks(self):
        self.page("/networks/", "/networks/")

    @task(3)
    def network(self):
        pk = random.choice(self.me["networks"])
        body = self.page(f"/networks/{pk}/", "/networks/[id]/")
        ask(self.client, f"/networks/{pk}/inspect/", "/networks/[id]/inspect/", headers={"HX-Request": "true"})
        self.hold(STATUS_LINE, body, "/networks/[id]/status/")

    @task(2)
    def containers(self):
        self.page("/containers/", "/containers/")

    @task(1)
    def allocation_map(self):
        self.page("/map/", "/map/")

    @task(1)
    def topology(self):
        self.page("/topology/", "/topology/")

    @task(2)
    def operations(self):
        body = self.page("/operations/", "/operations/")
        unfinished = [pk for _, pk in OPERATION_ROW.findall(body)]
        pks = unfinished or OPERATION_LINK.findall(body)
        if pks:
            detail = ask(self.client, f"/operations/{pks[0]}/", "/operations/[id]/").text or ""
            self.hold(PROGRESS, detail, "/operations/[id]/progress/")


class Script(FastHttpUser):
    """A script with a team token: lists, records and operations, and now and then a network made and
    removed, each waited for (half with ?wait= on the call, half by reading the operation until it ends)."""

    wait_time = between(1, 3)
    fixed_count = len(PEOPLE["scripts"])
    numbers = itertools.count()

    def on_start(self):
        self.me = PEOPLE["scripts"][next(self.numbers) % len(PEOPLE["scripts"])]
        self.headers = {"Authorization": f"Token {self.me['token']}"}

    def api(self, method: str, path: str, name: str, kind: str = "read", **kwargs) -> dict:
        headers = {**self.headers, **kwargs.pop("headers", {})}  # an Idempotency-Key stays the same when sent again
        for _ in range(2):
            with self.client.request(
                method, f"/api/v1/{path}", name=f"/api/v1/{name}", context={"kind": kind}, catch_response=True,
                headers=headers, **kwargs,
            ) as answer:  # fmt: skip
                if closed(answer):
                    continue
                body = answer.json() if answer.status_code < 400 and answer.text else {}
                if answer.status_code >= 400:
                    answer.failure(f"{answer.status_code} {(answer.text or '')[:150]}")
                elif body.get("status") == "failed":
                    answer.failure(f"operation failed: {body.get('error')}")
                elif "wait=" in path and body.get("status") != "succeeded":
                    answer.failure(f"operation still {body.get('status')} after {WAIT} s")
                return body
        return {}

    @task(3)
    def network_list(self):
        self.api("GET", "networks/", "networks/")

    @task(3)
    def network_record(self):
        self.api("GET", f"networks/{random.choice(self.me['networks'])}/", "networks/[id]/")

    @task(2)
    def operations(self):
        page = self.api("GET", "operations/", "operations/")
        if page.get("results"):
            self.api("GET", f"operations/{page['results'][0]['id']}/", "operations/[id]/")

    @task(2)
    def create_and_remove(self):
        body = {"name": f"load-{uuid.uuid4().hex[:10]}", "cluster": self.me["cluster"]}
        key = {"Idempotency-Key": uuid.uuid4().hex}
        if random.random() < 0.5:
            made = self.api("POST", f"networks/?wait={WAIT}", "networks/?wait=", "change", json=body, headers=key)
        else:  # the operation read every half second until it has finished
            made = self.api("POST", "networks/", "networks/", "change", json=body, headers=key)
            deadline = time.monotonic() + WAIT
            while made.get("status") in ("queued", "running") and time.monotonic() < deadline:
                time.sleep(0.5)
                made = self.api("GET", f"operations/{made['id']}/", "operations/[id]/")
        if made.get("status") != "succeeded":
            return
        time.sleep(random.uniform(0.5, 2))  # a script does something with it, then tidies up
        self.api("DELETE", f"networks/{made['network']}/?wait={WAIT}", "networks/[id]/?wait=", "change")
