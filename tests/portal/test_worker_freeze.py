"""What a worker's processes built before their first task (portal/celery.py): frozen out of the garbage
collector's full collections, in the main process once it is ready and in each pool process once set up."""

from __future__ import annotations

import gc

import pytest
from celery.signals import worker_process_init, worker_ready


@pytest.mark.parametrize("signal", [worker_process_init, worker_ready], ids=["pool process", "main process"])
def test_a_worker_process_freezes_what_its_start_built(signal):
    gc.unfreeze()
    try:
        signal.send(sender=None)
        frozen = gc.get_freeze_count()
        assert frozen > 10_000
        gc.collect()
        # a full collection leaves them frozen; the count may still fall by the few freed by their last reference
        assert gc.get_freeze_count() > max(10_000, frozen - 1_000)
    finally:
        gc.unfreeze()  # the test process goes on collecting as before
