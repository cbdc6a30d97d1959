"""The CPU a served portal (bench/served.py) spends, read from /proc: user+system time of the web (gunicorn's
master and workers), the worker (Celery's main process and its pool's children) and PostgreSQL's backends of
the bench's database, between two readings; and `--profile`'s py-spy sampling of the web and the worker.
Import after django.setup()."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from django.db import connection

from bench.served import Portal

ROOT = Path(__file__).resolve().parent.parent

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields from the state on (the name, in parentheses, may hold spaces)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def process_cpu(pid: int) -> float:
    """Seconds of user+system CPU of `pid` and of the children it has reaped; 0 once it is gone."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / TICK  # utime, stime, cutime, cstime


def process_tree(root: int) -> list[int]:
    """`root` and every process under it."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except OSError:
                continue
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


class CpuMeter:
    """The CPU the portal's processes spend between two readings, in three parts: the web (gunicorn's
    master and workers), the worker (Celery's main process and its pool's children) and PostgreSQL (the
    backends connected to the bench's database). A process born between the readings counts from 0."""

    def __init__(self, portal: Portal):
        self.home = portal.home
        self.roots = {"web": program_pid(portal, "web"), "worker": program_pid(portal, "worker")}
        self.rescan()

    def rescan(self) -> None:
        """Look for the processes again (a few ms: every process of the machine is read)."""
        self.pids = {part: process_tree(root) for part, root in self.roots.items()}
        self.pids["postgres"] = postgres_backends()

    def read(self) -> dict[str, dict[int, float]]:
        """The CPU of the processes found at the last scan: cheap enough to read while a batch runs."""
        return {part: {pid: process_cpu(pid) for pid in pids} for part, pids in self.pids.items()}

    @staticmethod
    def spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
        return {
            part: sum(seconds - before[part].get(pid, 0.0) for pid, seconds in after[part].items()) for part in after
        }


def profile(meter: CpuMeter) -> list[subprocess.Popen]:
    """`--profile`: py-spy (requirements-dev.txt) samples the web's and the worker's processes on CPU through
    the batch, into the served portal's folder (var/<name>/profile-{web,worker}.txt) (collapsed stacks, `py-spy record --format raw`)."""
    spy = shutil.which("py-spy", path=f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}")
    if "--profile" not in sys.argv[1:] or spy is None:
        return []
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(root),
                "--subprocesses",
                "--nonblocking",
                "--gil",
                "--rate",
                "250",
                "--format",
                "raw",
                "--output",
                str(meter.home / f"profile-{part}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for part, root in meter.roots.items()
    ]


def profile_end(spies: list[subprocess.Popen]) -> None:
    for spy in spies:
        spy.send_signal(2)  # SIGINT: py-spy writes its file and exits
        spy.wait(timeout=30)


def postgres_backends() -> list[int]:
    """The PostgreSQL backends of the bench's database (the portal's connections), none on SQLite."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def database_backends(name: str) -> list[int]:
    """The PostgreSQL backends connected to database `name`, asked over a connection of the bench's own (a bench
    whose Django connection is the portal's: bench/web_create.py)."""
    import psycopg

    settings = connection.settings_dict
    where = {
        "host": settings["HOST"],
        "port": settings["PORT"],
        "user": settings["USER"],
        "password": settings["PASSWORD"],
    }
    with psycopg.connect(dbname="postgres", **{key: value for key, value in where.items() if value}) as own:
        rows = own.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]).fetchall()
    return [pid for (pid,) in rows]


def program_pid(portal: Portal, name: str) -> int:
    """The pid of one of the programs supervisord runs (web: gunicorn's master; worker: Celery's main)."""
    conf = portal.home / "run" / "supervisord.conf"
    answer = subprocess.run(["supervisorctl", "-c", str(conf), "pid", name], capture_output=True, text=True)
    return int(answer.stdout.strip())


def cpu_per_create(meter: CpuMeter, began: dict, posted: dict, ended: dict, count: int, case: str = "") -> float:
    """Print the batch's CPU per network by part (`case`: what the line names); return the web's POSTs + the
    worker's, in ms.

    The web's part is its CPU while the POSTs were answered: after them it only answers the bench's own
    polls (the unfinished operations read every POLL seconds), a cost of how long the batch lasts, not of a
    create, printed apart. The worker's part and PostgreSQL's run from the first POST to the last success."""
    meter.rescan()  # backends the web opened during the batch count from 0; those it closed are lost (rare)
    ended = {part: {**meter.read()[part], **ended[part]} for part in ended}
    web = CpuMeter.spent(began, posted)["web"] * 1000 / count
    spent = {part: seconds * 1000 / count for part, seconds in CpuMeter.spent(began, ended).items()}
    polled = spent["web"] - web
    print(
        f"{case or f'cpu per create (batch of {count})       '} web {web:.1f} ms + worker {spent['worker']:.1f} ms = "
        f"{web + spent['worker']:.1f} ms; postgres {spent['postgres']:.1f} ms; "
        f"the bench's polls {polled:.1f} ms more in the web"
    )
    return web + spent["worker"]
