"""Carina-style credentials bundles: read them, check them, seal what is secret.

A bundle is what Carina handed each user for a cluster: a zip with `docker.env` (DOCKER_HOST,
DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) and the three PEMs `ca.pem`, `cert.pem` and `key.pem`, at its
root or in one folder. Staff may also paste the endpoint and the three PEMs. Everything here is
pure: no cluster is asked (services/clusters/connect.py connects), nothing is stored.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from networks.engine.endpoints import TlsCredentials
from networks.sealing import secret_open, secret_seal
from plumbing.errors import ServiceError

MAX_BUNDLE_BYTES = 1 << 20  # a bundle is a few kilobytes; a zip bomb is refused before it is opened
MAX_MEMBER_BYTES = 64 << 10  # a PEM is 1 to 4 kB, docker.env a few lines
READ_CHUNK_BYTES = 16 << 10
# Stored and deflate only: zipfile's bzip2 and LZMA readers inflate a whole compressed block at once, unbounded.
READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
ZIP_ENCRYPTED = 0x1  # general purpose flag bit 0 (APPNOTE 4.4.4)
PEM_NAMES = ("ca.pem", "cert.pem", "key.pem")


class BundleError(ServiceError):
    """The bundle (or a pasted part of it) cannot be used; the message says which file and what to do."""

    def __init__(self, message: str, *, field: str | None = "bundle"):
        super().__init__("bundle_invalid", message, field=field, http_status=400)


@dataclass(frozen=True)
class Bundle:
    docker_host: str  # tcp://host:2376, as in docker.env
    tls: TlsCredentials | None = field(repr=False)  # None only for a cluster recorded without TLS
    consul_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class CertificateFacts:
    subject: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    fingerprint: str  # SHA-256, hex with colons, as `openssl x509 -fingerprint -sha256` prints it


def bundle_read(data: bytes, *, consul_token: str = "") -> Bundle:
    """A bundle from the bytes of its zip."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError("That file is too large to be a credentials bundle (they are a few kilobytes).")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = {info.filename.rsplit("/", 1)[-1]: info for info in archive.infolist() if not info.is_dir()}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise BundleError(
            "That file is not a zip. Upload the credentials bundle as downloaded (a zip with docker.env, ca.pem, "
            "cert.pem and key.pem), or paste the endpoint and the three PEMs instead."
        ) from None
    except NotImplementedError as error:  # the zip asks for a feature Python's reader lacks ("zip file version 6.4")
        raise BundleError(
            f"That zip uses a feature the portal cannot read ({error}). Zip the bundle again with the usual tools "
            "(plain zip, deflate), or paste the endpoint and the three PEMs instead."
        ) from None
    missing = [name for name in ("docker.env", *PEM_NAMES) if name not in members]
    if missing:
        raise BundleError(f"The bundle lacks {', '.join(missing)}. Download the cluster's bundle again.")
    text = {name: _member_text(archive, members[name], name) for name in ("docker.env", *PEM_NAMES)}
    env = docker_env_parse(text["docker.env"])
    if env.get("DOCKER_TLS_VERIFY", "1") in ("", "0"):
        raise BundleError("docker.env turns TLS verification off (DOCKER_TLS_VERIFY); the portal only talks TLS.")
    if "DOCKER_HOST" not in env:
        raise BundleError("docker.env does not set DOCKER_HOST. Download the cluster's bundle again.")
    return bundle_from_parts(
        docker_host=env["DOCKER_HOST"],
        ca_pem=text["ca.pem"],
        cert_pem=text["cert.pem"],
        key_pem=text["key.pem"],
        consul_token=consul_token,
    )


def _member_text(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> str:
    """One file of the bundle, read a chunk at a time and never past MAX_MEMBER_BYTES, whatever sizes the
    zip's headers declare: they are the uploader's word, and a header that declared 1,000 bytes in front
    of an 800 MB deflate stream once took a web process to 1.7 GB."""
    if info.flag_bits & ZIP_ENCRYPTED:
        raise BundleError(
            f"{name} is encrypted in the zip; the portal cannot read it. Zip the bundle again without a password, "
            "or paste the endpoint and the three PEMs instead."
        )
    if info.compress_type not in READABLE_METHODS:
        raise BundleError(
            f"{name} is compressed with a method the portal does not read (zip method {info.compress_type}). Zip "
            "the bundle again with the usual method (deflate), or paste the endpoint and the three PEMs instead."
        )
    too_large = BundleError(
        f"{name} is larger than {MAX_MEMBER_BYTES // 1024} kB, too large to be a certificate, a key or docker.env. "
        "Download the cluster's bundle again."
    )
    if info.file_size > MAX_MEMBER_BYTES:
        raise too_large
    chunks, size = [], 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(READ_CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_MEMBER_BYTES:
                    raise too_large
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError):
        raise BundleError(
            f"{name} is damaged in the zip (its data does not match the sizes or checksum the zip gives). Download "
            "the cluster's bundle again, or paste the endpoint and the three PEMs instead."
        ) from None
    return b"".join(chunks).decode("utf-8", errors="replace")


def bundle_given(
    *,
    upload: BinaryIO | None = None,
    docker_host: str = "",
    ca_pem: str = "",
    cert_pem: str = "",
    key_pem: str = "",
    consul_token: str = "",
) -> Bundle:
    """The bundle staff gave on a form or through the API: an uploaded zip (a file, read no further than a
    bundle can be), or the endpoint and the three PEMs pasted; one or the other. A refusal about the upload
    names the `bundle` field."""
    pasted = any(part.strip() for part in (docker_host, ca_pem, cert_pem, key_pem))
    if upload is not None and pasted:
        raise BundleError(
            "Upload the bundle or paste the endpoint and the three PEMs, not both: the portal would not know "
            "which to use."
        )
    if upload is not None:
        try:
            return bundle_read(upload.read(MAX_BUNDLE_BYTES + 1), consul_token=consul_token)
        except BundleError as error:
            raise BundleError(error.message, field="bundle") from None  # what to fix is the zip
    if not pasted:
        raise BundleError(
            "Upload the cluster's credentials bundle (a zip with docker.env, ca.pem, cert.pem and key.pem), or "
            "paste its endpoint (DOCKER_HOST) and the three PEMs."
        )
    return bundle_from_parts(
        docker_host=docker_host, ca_pem=ca_pem, cert_pem=cert_pem, key_pem=key_pem, consul_token=consul_token
    )


def docker_env_parse(text: str) -> dict[str, str]:
    """NAME -> value from `export NAME=value` lines (quotes removed); anything else is ignored."""
    found = {}
    for match in re.finditer(r"^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*?)\s*$", text, re.M):
        found[match.group(1)] = match.group(2).strip().strip("\"'")
    return found


def bundle_from_parts(*, docker_host: str, ca_pem: str, cert_pem: str, key_pem: str, consul_token: str = "") -> Bundle:
    """A bundle from pasted parts, each checked: the endpoint, three PEMs that parse, a key that belongs
    to the certificate, a client certificate valid now."""
    tls = TlsCredentials(ca_pem=ca_pem.strip() + "\n", cert_pem=cert_pem.strip() + "\n", key_pem=key_pem.strip() + "\n")
    bundle = Bundle(docker_host=docker_host_check(docker_host), tls=tls, consul_token=consul_token.strip())
    ca = _certificate(tls.ca_pem, "ca.pem", "ca_pem")
    cert = _certificate(tls.cert_pem, "cert.pem", "cert_pem")
    key = _private_key(tls.key_pem)
    if not _is_ca(ca):
        raise BundleError(
            "ca.pem is not a CA certificate. It should be the CA that signed the cluster's certificates.",
            field="ca_pem",
        )
    if key.public_key().public_bytes(*_SPKI) != cert.public_key().public_bytes(*_SPKI):
        raise BundleError("key.pem is not the key of cert.pem. Take both from the same bundle.", field="key_pem")
    facts = certificate_facts(tls.cert_pem)
    now = datetime.datetime.now(datetime.UTC)
    if facts.not_after < now:
        raise BundleError(
            f"The client certificate (cert.pem) expired on {facts.not_after:%Y-%m-%d %H:%M} UTC. "
            "Download a new bundle for the cluster.",
            field="cert_pem",
        )
    if facts.not_before > now:
        raise BundleError(
            f"The client certificate (cert.pem) is not valid until {facts.not_before:%Y-%m-%d %H:%M} UTC. "
            "Check this machine's clock, or wait until then.",
            field="cert_pem",
        )
    return bundle


def docker_host_check(docker_host: str) -> str:
    value = docker_host.strip()
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise BundleError(
            f'"{value[:100]}" is not a Docker TCP endpoint. Give it as in docker.env: tcp://HOST:2376.',
            field="docker_host",
        )
    return f"tcp://{parts.netloc}"


def certificate_facts(pem: str) -> CertificateFacts:
    cert = _certificate(pem, "cert.pem", "cert_pem")
    return CertificateFacts(
        subject=cert.subject.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(":").upper(),
    )


def bundle_seal(bundle: Bundle) -> dict:
    """The bundle as it may be stored or sent to a worker: the key and the Consul token sealed."""
    assert bundle.tls is not None, "a bundle given to register or rotate with always holds its TLS files"
    return {
        "docker_host": bundle.docker_host,
        "ca_pem": bundle.tls.ca_pem,
        "cert_pem": bundle.tls.cert_pem,
        "key_sealed": secret_seal(bundle.tls.key_pem),
        "consul_token_sealed": secret_seal(bundle.consul_token) if bundle.consul_token else "",
    }


def bundle_open(sealed: dict) -> Bundle:
    return Bundle(
        docker_host=sealed["docker_host"],
        tls=TlsCredentials(
            ca_pem=sealed["ca_pem"], cert_pem=sealed["cert_pem"], key_pem=secret_open(sealed["key_sealed"])
        ),
        consul_token=secret_open(sealed["consul_token_sealed"]) if sealed["consul_token_sealed"] else "",
    )


_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _certificate(pem: str, name: str, field_name: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise BundleError(
            f"{name} is not a PEM certificate (-----BEGIN CERTIFICATE-----). Take it from the cluster's bundle.",
            field=field_name,
        ) from None


def _private_key(pem: str):
    try:
        return serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        # The message never repeats the key's text: it is a secret even when malformed.
        raise BundleError(
            "key.pem is not an unencrypted PEM private key. Take it from the cluster's bundle.", field="key_pem"
        ) from None


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return cert.issuer == cert.subject  # an old self-signed root without extensions
