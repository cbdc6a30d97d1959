"""Credentials that cannot be used, each with the field and the sentence every surface must answer with:
the admin's add page, the portal's register page and POST /api/v1/clusters/ (and their rotate forms).

A case is (id, upload, pasted, field, sentence): `upload` is the bytes of an uploaded zip (or None),
`pasted` the endpoint and PEMs typed instead. The certificates out of their validity are made with
`openssl ca` (tests/support.py), as a provider's CA would sign them. The fixture `bad_input_cases`
(tests/fixtures/cluster_inputs.py) makes them once per run.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import made_bundle
from tests.support import bundle_files, bundle_zip, openssl_client_certificate, zip_forged, zip_with_stream


@dataclass(frozen=True)
class BadInput:
    id: str
    upload: bytes | None
    pasted: dict
    field: str
    sentence: str


def pasted(bundle, **changes) -> dict:
    parts = {
        "docker_host": bundle.docker_host,
        "ca_pem": bundle.tls.ca_pem,
        "cert_pem": bundle.tls.cert_pem,
        "key_pem": bundle.tls.key_pem,
    }
    return {**parts, **changes}


def key_body(bundle) -> list[str]:
    """The base64 lines of the bundle's private key: none of them may ever be shown or stored in clear."""
    return [line for line in bundle.tls.key_pem.splitlines() if line and not line.startswith("-----")]


def bad_inputs(workdir: Path) -> list[BadInput]:
    good, other = made_bundle(), made_bundle("tcp://127.0.0.1:10")
    expired = openssl_client_certificate(workdir / "expired", startdate="20200101000000Z", enddate="20200201000000Z")
    early = openssl_client_certificate(workdir / "early", startdate="20990101000000Z", enddate="20990201000000Z")
    mismatched = pasted(good, key_pem=other.tls.key_pem)
    return [
        BadInput("not-a-zip", b"PK? no, a text file", {}, "bundle", "That file is not a zip."),
        BadInput(
            "missing-files",
            bundle_zip(good, drop=("key.pem", "ca.pem")),
            {},
            "bundle",
            "The bundle lacks ca.pem, key.pem.",
        ),
        BadInput(
            "no-docker-host",
            bundle_zip(good, docker_env="export DOCKER_TLS_VERIFY=1\nexport DOCKER_CERT_PATH=$(pwd)\n"),
            {},
            "bundle",
            "docker.env does not set DOCKER_HOST.",
        ),
        BadInput(
            "tls-verify-off",
            bundle_zip(good, docker_env="export DOCKER_HOST=tcp://127.0.0.1:9\nexport DOCKER_TLS_VERIFY=0\n"),
            {},
            "bundle",
            "docker.env turns TLS verification off",
        ),
        BadInput(
            "key-of-another-cert-in-zip",
            bundle_zip(good, key_pem=other.tls.key_pem),
            {},
            "bundle",
            "key.pem is not the key of cert.pem.",
        ),
        BadInput(
            "cert-garbage", None, pasted(good, cert_pem="garbage"), "cert_pem", "cert.pem is not a PEM certificate"
        ),
        BadInput(
            "key-garbage",
            None,
            pasted(good, key_pem="-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----"),
            "key_pem",
            "key.pem is not an unencrypted PEM private key.",
        ),
        BadInput(
            "ca-not-a-ca", None, pasted(good, ca_pem=good.tls.cert_pem), "ca_pem", "ca.pem is not a CA certificate."
        ),
        BadInput("key-of-another-cert", None, mismatched, "key_pem", "key.pem is not the key of cert.pem."),
        BadInput(
            "expired",
            None,
            pasted(good, **expired),
            "cert_pem",
            "The client certificate (cert.pem) expired on 2020-02-01 00:00 UTC.",
        ),
        BadInput(
            "not-yet-valid",
            None,
            pasted(good, **early),
            "cert_pem",
            "The client certificate (cert.pem) is not valid until 2099-01-01 00:00 UTC.",
        ),
        BadInput(
            "not-a-tcp-endpoint",
            None,
            pasted(good, docker_host="https://127.0.0.1:2376"),
            "docker_host",
            "is not a Docker TCP endpoint. Give it as in docker.env: tcp://HOST:2376.",
        ),
        BadInput(
            "encrypted-member",
            zip_forged(bundle_zip(good), "bundle/key.pem", flag_bits=0x1),
            {},
            "bundle",
            "key.pem is encrypted in the zip; the portal cannot read it. Zip the bundle again without a password",
        ),
        BadInput(
            "unknown-method",
            zip_forged(bundle_zip(good), "bundle/key.pem", method=6),  # 6: implode, from PKZIP 1
            {},
            "bundle",
            "key.pem is compressed with a method the portal does not read (zip method 6).",
        ),
        BadInput(
            "size-understated",  # 20 MB of zeros behind a header that says 1,000 bytes
            zip_forged(
                zip_with_stream(bundle_files(good), "key.pem", [bytes(1 << 20)] * 20),
                "bundle/key.pem",
                declared_size=1000,
            ),
            {},
            "bundle",
            "key.pem is damaged in the zip (its data does not match the sizes or checksum the zip gives).",
        ),
        BadInput(
            "member-too-large",
            zip_with_stream(bundle_files(good), "key.pem", [b"k" * 100_000]),
            {},
            "bundle",
            "key.pem is larger than 64 kB, too large to be a certificate, a key or docker.env.",
        ),
        BadInput("truncated-zip", bundle_zip(good)[:-30], {}, "bundle", "That file is not a zip."),
        BadInput("nothing-given", None, {}, "bundle", "Upload the cluster's credentials bundle"),
        BadInput("both-given", bundle_zip(good), pasted(good), "bundle", "not both"),
    ]


CASE_IDS = [
    "not-a-zip",
    "missing-files",
    "no-docker-host",
    "tls-verify-off",
    "key-of-another-cert-in-zip",
    "cert-garbage",
    "key-garbage",
    "ca-not-a-ca",
    "key-of-another-cert",
    "expired",
    "not-yet-valid",
    "not-a-tcp-endpoint",
    "encrypted-member",
    "unknown-method",
    "size-understated",
    "member-too-large",
    "truncated-zip",
    "nothing-given",
    "both-given",
]


def form_data(case: BadInput, **fields) -> dict:
    """What a register or rotate form posts for the case (multipart, the zip as a file)."""
    data = {**fields, **case.pasted}
    if case.upload is not None:
        data["bundle"] = SimpleUploadedFile("bundle.zip", case.upload, content_type="application/zip")
    return data


def field_error(page: str, field: str) -> str:
    """The error shown under a form field, as text."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error"><li>(.*?)</li>', page, re.S)
    return html.unescape(match.group(1)) if match else ""
