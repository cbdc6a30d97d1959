"""networks/bundles.py against hostile zips: the memory one upload may take, and bytes nobody meant.

The memory is measured in a process of its own (as a web process holds the upload): the growth of its
peak resident size (ru_maxrss) while `bundle_given` reads a forged bundle whose key.pem is an 800 MB
deflate stream behind headers that declare 1,000 bytes. Before members were read in chunks that one
upload took a web process to 1.7 GB and answered 500.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from networks.bundles import MAX_BUNDLE_BYTES, Bundle, BundleError, bundle_read
from tests.factories import made_bundle
from tests.support import bundle_files, bundle_zip, zip_forged, zip_with_stream

ROOT = Path(__file__).resolve().parents[2]
MEMORY_BOUND = 50 << 20  # what one upload may add to a web process's peak memory

MEASURE = """
import io, resource, sys
import django
django.setup()
from networks.bundles import BundleError, bundle_given
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    bundle_given(upload=io.BytesIO(data))
    print("accepted")
except BundleError as error:
    print(error.message)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)  # KiB on Linux
"""


def peak_growth(path: Path) -> tuple[str, int]:
    """(what bundle_given answered, how many bytes its reading added to the process's peak memory)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    answer, growth = done.stdout.strip().splitlines()[-2:]
    return answer, int(growth)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """817 kB: key.pem is 800 MB of zeros, its headers say 1,000 bytes."""
    stream = zip_with_stream(bundle_files(made_bundle()), "key.pem", (bytes(1 << 20) for _ in range(800)))
    forged = zip_forged(stream, "bundle/key.pem", declared_size=1000)
    assert len(forged) < MAX_BUNDLE_BYTES  # small enough to be read at all
    path = tmp_path_factory.mktemp("bomb") / "bundle.zip"
    path.write_bytes(forged)
    return path


def test_a_forged_800_mb_member_is_refused_within_50_mb_of_memory(bomb):
    answer, growth = peak_growth(bomb)
    print(f"peak memory growth reading the forged bundle: {growth / (1 << 20):.1f} MB")
    assert answer.startswith("key.pem is damaged in the zip (its data does not match the sizes or checksum")
    assert growth < MEMORY_BOUND, growth


def test_a_forged_member_that_declares_its_800_mb_is_refused_before_it_is_read(bomb):
    honest = zip_forged(bomb.read_bytes(), "bundle/key.pem", declared_size=800 << 20)
    with pytest.raises(BundleError) as refused:
        bundle_read(honest)
    assert refused.value.message.startswith("key.pem is larger than 64 kB, too large to be a certificate")


def test_a_bundle_as_carina_made_it_is_still_read():
    bundle = made_bundle()
    assert bundle_read(bundle_zip(bundle)) == bundle
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, text in {**bundle_files(bundle), "key.pem": bundle.tls.key_pem}.items():
            archive.writestr(name, text)  # at the zip's root, not compressed
    assert bundle_read(stored.getvalue()) == bundle


@pytest.mark.parametrize(
    ("method", "name"), [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")], ids=["bzip2", "lzma"]
)
def test_bzip2_and_lzma_members_are_refused_as_they_cannot_be_read_in_bounded_chunks(method, name):
    bundle = made_bundle()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for file_name, text in {**bundle_files(bundle), "key.pem": bundle.tls.key_pem}.items():
            archive.writestr(file_name, text)
    with pytest.raises(BundleError) as refused:
        bundle_read(out.getvalue())
    assert refused.value.message == (
        f"docker.env is compressed with a method the portal does not read (zip method {method}). Zip the bundle "
        "again with the usual method (deflate), or paste the endpoint and the three PEMs instead."
    ), name


GOOD = bundle_zip(made_bundle())


@settings(max_examples=300, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(changes=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_any_bytes_changed_in_a_bundle_give_the_bundle_or_a_sentence_never_another_error(changes):
    data = bytearray(GOOD)
    for at, value in changes:
        data[at] = value
    try:
        assert isinstance(bundle_read(bytes(data)), Bundle)
    except BundleError as error:
        assert error.message.endswith(".") and error.field == "bundle"


def test_a_zip_asking_for_a_newer_reader_is_refused_with_a_sentence():
    # Hypothesis found it: "version needed to extract" 6.4 in the central directory made zipfile raise
    # NotImplementedError, which no one caught (a 500 on the register page and the API).
    data = bytearray(GOOD)
    central = data.index(b"PK\x01\x02")
    data[central + 6 : central + 8] = (64).to_bytes(2, "little")
    with pytest.raises(BundleError) as refused:
        bundle_read(bytes(data))
    assert refused.value.message == (
        "That zip uses a feature the portal cannot read (zip file version 6.4). Zip the bundle again with the "
        "usual tools (plain zip, deflate), or paste the endpoint and the three PEMs instead."
    )
