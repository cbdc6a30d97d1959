"""Real processes the resilience tests start on their own: a Redis on a free port, a web server and a
worker that use it, and a TCP relay to a server. The machine's own Redis (6379) is never stopped."""

from __future__ import annotations

import base64
import gc
import json
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis
import requests
from celery import Celery
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.conftest import PortalProcess, WorkerProcess


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TcpRelay:
    """A relay from a free port of 127.0.0.1 to `target` (host, port), listening only once `open` is called: until
    then a connection there is refused, as to a server that is not up yet. Each connection gets one to `target`."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.port = target, free_port()
        self.server: socketserver.ThreadingTCPServer | None = None

    def open(self) -> None:
        target = self.target

        class Relay(socketserver.BaseRequestHandler):
            def handle(self):
                with socket.create_connection(target) as upstream:
                    back = threading.Thread(target=_pump, args=(upstream, self.request), daemon=True)
                    back.start()
                    _pump(self.request, upstream)
                    back.join()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Relay)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """What `source` says, to `sink`, until it ends; then `sink` is told that no more comes."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class OwnRedis:
    """A redis-server on a free port, without persistence: a restart loses what it held, as a crash would."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with open(self.log_dir / "redis.log", "ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"redis-server on port {self.port} did not start")

    def freeze(self) -> None:
        """Stopped, not ended (SIGSTOP): connections are still accepted by the kernel and nothing answers,
        as a hung Redis or a network that drops packets would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        # Celery results read from it are let go while it answers: one collected later unsubscribes from
        # a Redis that is gone, and retries it for ~20 s (a test's teardown waited on that).
        gc.collect()
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)


def celery_on(url: str) -> Celery:
    """A Celery client of the given Redis, for sending a task and reading its result from the test.

    Celery prefers CELERY_BROKER_URL from the environment (the tests' own Redis) to a broker given
    here, but not to the read and write URLs, so those name this one.
    """
    app = Celery("probe", set_as_current=False)
    app.conf.update(broker_read_url=url, broker_write_url=url, result_backend=url)
    return app


class BrokerWorker(WorkerProcess):
    """The portal's worker on a Redis the test started; ready when it answers a ping there."""

    def __init__(self, log_dir: Path, url: str):
        super().__init__(log_dir, env={"CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url})
        self.client = celery_on(url)

    def ready(self) -> bool:
        try:
            return bool(self.client.control.ping(destination=[self.nodename], limit=1, timeout=1.0))
        except (OperationalError, RedisConnectionError):  # a connection from before the Redis restart
            return False


class WebServer(PortalProcess):
    """The portal under gunicorn on a free port; ready when /login/ answers 200."""

    name = "web"

    def __init__(self, log_dir: Path, env: dict | None = None):
        super().__init__(log_dir, env=env)
        self.port = free_port()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        return [gunicorn, "portal.wsgi:application", "--bind", f"127.0.0.1:{self.port}", "--workers", "2"]

    def ready(self) -> bool:
        try:
            return requests.get(f"{self.base}/login/", timeout=2).status_code == 200
        except requests.RequestException:
            return False


def redis_everything(client: redis.Redis) -> str:
    """Every key and value in the Redis, with Celery's base64 message bodies decoded too."""
    seen = []
    for key in client.scan_iter():
        seen.append(key.decode(errors="replace"))
        kind = client.type(key).decode()
        values = {
            "string": lambda k: [client.get(k)],
            "list": lambda k: client.lrange(k, 0, -1),
            "hash": lambda k: [item for pair in client.hgetall(k).items() for item in pair],
            "set": lambda k: list(client.smembers(k)),
            "zset": lambda k: client.zrange(k, 0, -1),
        }.get(kind, lambda k: [])(key)
        for value in values:
            text = value.decode(errors="replace")
            seen.append(text)
            try:
                message = json.loads(text)
                seen.append(base64.b64decode(message["body"]).decode(errors="replace"))
            except (ValueError, KeyError, TypeError):
                pass
    return "\n".join(seen)


BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")


def with_base64_decoded(text: str) -> str:
    """The text and, after it, every long base64 run in it decoded (Celery's message bodies are base64)."""
    decoded = []
    for run in BASE64_RUN.findall(text):
        try:
            decoded.append(base64.b64decode(run + "=" * (-len(run) % 4)).decode(errors="replace"))
        except ValueError:
            continue
    return "\n".join([text, *decoded])


class RedisMonitor:
    """Every command a Redis executes while it runs (MONITOR): the task messages as they were pushed,
    the results as they were stored, even those a worker has taken off the queue since."""

    STOP = "redis-monitor-stop"

    def __init__(self, url: str):
        self.url = url
        self.commands: list[str] = []
        self.thread = threading.Thread(target=self._listen, daemon=True)

    def _listen(self) -> None:
        with redis.Redis.from_url(self.url).monitor() as monitor:
            for command in monitor.listen():
                self.commands.append(command["command"])
                if self.STOP in command["command"]:
                    return

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.commands and time.monotonic() < deadline:
            redis.Redis.from_url(self.url).ping()  # seen once MONITOR has started
            time.sleep(0.05)

    def stop(self) -> str:
        redis.Redis.from_url(self.url).get(self.STOP)
        self.thread.join(timeout=10)
        return "\n".join(self.commands)
