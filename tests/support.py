"""Helpers shared by the test modules that are not factories (tests/factories.py): waiting for the worker,
the test database's URL, what Consul holds, bundle zips (honest and forged), certificates from openssl,
query counts, a row locked by another connection."""

import contextlib
import io
import struct
import subprocess
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from networks.bundles import Bundle


def database_url() -> str:
    """The URL of the database the tests run on, for processes the tests start (workers, allocators)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class OnTheTestsConnection:
    """Django's WSGI application on the test's own database connection, as Django's test client runs it:
    in a test's transaction, what a request writes is rolled back with it; in a transactional test, it is
    committed (a worker sees it), as a live server's request would, without a connection per request."""

    handler = WSGIHandler()

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def wait_for_operation(operation, timeout: float = 120):
    """Poll the database until the worker finishes the operation; return it fresh."""
    import time

    from networks.models import Operation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = Operation.objects.get(pk=operation.pk)
        if fresh.is_finished:
            return fresh
        time.sleep(0.05)
    raise AssertionError(f"operation {operation.pk} did not finish in {timeout}s: {fresh.status} {fresh.progress}")


def wait_until(predicate, timeout: float = 60, interval: float = 0.1):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def first_team(cluster):
    """The tenant a test registered the cluster for (its first grant): clusters belong to no one tenant."""
    return cluster.grants.select_related("tenant").order_by("pk").first().tenant


def consul_state(network) -> dict:
    """What the cluster's Consul holds for a network: its document and its endpoints' documents."""
    import json

    from networks.engine import consul as consul_engine
    from networks.services.state import endpoint_prefix, network_key

    address = network.cluster.consul
    raw = consul_engine.kv_get(address, network_key(network))
    endpoints = consul_engine.kv_get_tree(address, endpoint_prefix(network))
    return {
        "network": json.loads(raw) if raw else None,
        "endpoints": {key.rsplit("/", 1)[1]: json.loads(value) for key, value in endpoints.items()},
    }


def bundle_zip(
    bundle: Bundle,
    *,
    docker_env: str | None = None,
    drop: tuple[str, ...] = (),
    folder: str = "bundle/",
    key_pem: str | None = None,
) -> bytes:
    """A Carina-style zip of the bundle's parts (in a folder, as Carina's were); `drop` leaves files out,
    `key_pem` puts another key in."""
    files = {
        "docker.env": docker_env
        if docker_env is not None
        else f"export DOCKER_HOST={bundle.docker_host}\nexport DOCKER_TLS_VERIFY=1\nexport DOCKER_CERT_PATH=$(pwd)\n",
        "ca.pem": bundle.tls.ca_pem,
        "cert.pem": bundle.tls.cert_pem,
        "key.pem": key_pem if key_pem is not None else bundle.tls.key_pem,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            if name not in drop:
                archive.writestr(folder + name, text)
    return out.getvalue()


def zip_forged(
    data: bytes,
    name: str,
    *,
    declared_size: int | None = None,
    flag_bits: int | None = None,
    method: int | None = None,
) -> bytes:
    """The zip `data` with the headers of its member `name` rewritten as a hostile uploader would: both
    the local header and the central directory entry say `declared_size` (uncompressed), `flag_bits`
    (bit 0: encrypted) or `method` (the compression method), whatever the member holds."""
    forged = bytearray(data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = next(info for info in archive.infolist() if info.filename == name)
    central = archive.start_dir
    while forged[central + 46 : central + 46 + len(name.encode())] != name.encode():
        lengths = struct.unpack_from("<HHH", forged, central + 28)  # name, extra field, comment
        central += 46 + sum(lengths)
    # (offset in the local header, offset in the central directory entry, format)
    fields = {"flag_bits": (6, 8, "<H"), "method": (8, 10, "<H"), "declared_size": (22, 24, "<I")}
    for what, value in {"flag_bits": flag_bits, "method": method, "declared_size": declared_size}.items():
        if value is not None:
            local_at, central_at, fmt = fields[what]
            struct.pack_into(fmt, forged, info.header_offset + local_at, value)
            struct.pack_into(fmt, forged, central + central_at, value)
    return bytes(forged)


def zip_with_stream(files: dict[str, str], name: str, chunks, *, folder: str = "bundle/") -> bytes:
    """A deflate zip of `files` plus a member `name` written from `chunks` (bytes), streamed: a member of
    hundreds of megabytes is made without holding it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file_name, text in files.items():
            archive.writestr(folder + file_name, text)
        with archive.open(folder + name, "w") as member:
            for chunk in chunks:
                member.write(chunk)
    return out.getvalue()


def bundle_files(bundle: Bundle) -> dict[str, str]:
    """docker.env, ca.pem and cert.pem of the bundle, as a Carina zip holds them (key.pem left to the caller)."""
    return {
        "docker.env": f"export DOCKER_HOST={bundle.docker_host}\nexport DOCKER_TLS_VERIFY=1\n",
        "ca.pem": bundle.tls.ca_pem,
        "cert.pem": bundle.tls.cert_pem,
    }


OPENSSL_CONFIG = """
[ req ]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[ dn ]
CN = test CA
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
x509_extensions = client
[ anything ]
commonName = supplied
[ client ]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = clientAuth
"""


def openssl_client_certificate(
    workdir: Path, *, startdate: str, enddate: str, ca: Path | None = None
) -> dict[str, str]:
    """A client certificate signed with `openssl ca` for the given validity (YYYYMMDDHHMMSSZ), by the CA
    whose ca.pem and ca-key.pem are in the folder `ca` (a cluster's), or else by a CA made here; as the
    parts of a bundle: {"ca_pem", "cert_pem", "key_pem"}."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "openssl.cnf").write_text(OPENSSL_CONFIG)
    (workdir / "index.txt").write_text("")
    (workdir / "serial").write_text("01\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    steps = [["openssl", "req", "-config", "openssl.cnf", *ec, "-keyout", "key.pem", "-out", "client.csr"]]
    if ca is None:
        steps.insert(
            0, ["openssl", "req", "-config", "openssl.cnf", "-x509", *ec, "-keyout", "ca-key.pem", "-out", "ca.pem"]
        )
        ca = workdir
    steps.append(
        ["openssl", "ca", "-batch", "-config", "openssl.cnf", "-cert", str(ca / "ca.pem"), "-keyfile"]
        + [str(ca / "ca-key.pem"), "-in", "client.csr", "-out", "cert.pem", "-notext", "-startdate", startdate]
        + ["-enddate", enddate, "-subj", "/CN=portal client"]
    )
    for step in steps:
        subprocess.run(step, cwd=workdir, check=True, capture_output=True)
    return {
        "ca_pem": (ca / "ca.pem").read_text(),
        "cert_pem": (workdir / "cert.pem").read_text(),
        "key_pem": (workdir / "key.pem").read_text(),
    }


def query_counts(requests: dict) -> dict:
    """How many SQL queries each request made: {name: (status code, queries)}; each value of
    `requests` is a callable that makes one request and returns its response."""
    counts = {}
    for name, make in requests.items():
        with CaptureQueriesContext(connection) as queries:
            response = make()
        counts[name] = (response.status_code, len(queries))
    return counts


@contextlib.contextmanager
def row_locked_elsewhere(model: type[Model], pk: int, *, wait: str = "2s", strength: str = "UPDATE"):
    """`model`'s row `pk` locked (FOR UPDATE, or FOR `strength`: "KEY SHARE" is what PostgreSQL's foreign-key
    check takes on a row another transaction's new rows refer to) by another connection until the block ends,
    and this connection's lock waits cut to `wait` meanwhile: what waits for that row fails with PostgreSQL's
    "canceling statement due to lock timeout" instead of hanging. PostgreSQL only."""
    assert strength in ("UPDATE", "NO KEY UPDATE", "SHARE", "KEY SHARE"), strength
    import psycopg

    settings_dict = connection.settings_dict
    parts = {"dbname": settings_dict["NAME"], "user": settings_dict["USER"], "password": settings_dict["PASSWORD"]}
    parts |= {"host": settings_dict["HOST"], "port": str(settings_dict["PORT"] or "")}
    with psycopg.connect(**{name: value for name, value in parts.items() if value}) as other:
        other.execute(f'SELECT 1 FROM "{model._meta.db_table}" WHERE id = %s FOR {strength}', [pk])
        with connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{wait}'")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
            other.rollback()
