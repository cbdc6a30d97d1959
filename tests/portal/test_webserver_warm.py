"""What a web process builds before it serves (portal/webserver.py `warm`): every namespace's resolver, so
that no request's reverse() builds one, the prepared queries a create reads with, the serializers it reads and
answers with, and the objects built so far frozen out of the garbage collector's full collections."""

from __future__ import annotations

import gc
import threading

import pytest
from django.urls import reverse
from django.urls.resolvers import get_ns_resolver

from networks.api.serializers.networks import NetworkCreateSerializer
from networks.api.serializers.operations import OperationSerializer
from networks.selectors.clusters import _granted
from plumbing.prepared import _every
from portal.webserver import warm


@pytest.fixture
def warmed():
    warm()
    yield
    gc.unfreeze()  # the test process goes on collecting as before


def test_a_namespaced_reverse_on_a_new_thread_builds_no_resolver(warmed):
    made_before = get_ns_resolver.cache_info().misses
    urls = []
    thread = threading.Thread(
        target=lambda: urls.extend(
            [reverse("api:operation-detail", args=[7]), reverse("api:network-list"), reverse("networks:dashboard")]
        )
    )
    thread.start()
    thread.join()
    assert urls == ["/api/v1/operations/7/", "/api/v1/networks/", "/"]
    assert get_ns_resolver.cache_info().misses == made_before  # each namespace's resolver was made by warm()


def test_what_the_process_built_is_left_out_of_full_collections(warmed):
    assert gc.get_freeze_count() > 10_000
    frozen = gc.get_freeze_count()
    gc.collect()
    # a full collection leaves them frozen; the count may still fall by the few freed by their last reference
    assert gc.get_freeze_count() > max(10_000, frozen - 1_000)


def test_a_creates_prepared_queries_are_compiled_before_it_serves():
    _granted.shared.clear()  # as a new process has it
    warm()
    gc.unfreeze()
    assert "default" in _granted.shared
    assert sum("default" in prepared.shared for prepared in _every) > 10


def test_a_creates_serializers_are_made_before_it_serves():
    for serializer, made in ((NetworkCreateSerializer, "_made_fields"), (OperationSerializer, "_answerer")):
        if made in serializer.__dict__:
            delattr(serializer, made)  # as a new process has them
    warm()
    gc.unfreeze()
    assert "_made_fields" in NetworkCreateSerializer.__dict__  # a create's body, read with these fields
    assert "_answerer" in OperationSerializer.__dict__  # its answer, the operation, written by this
