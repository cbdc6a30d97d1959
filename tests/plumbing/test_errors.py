"""A service's refusal keeps its code, sentence, field and status across processes (pickled by Celery);
a selector's 404 becomes the one refusal for what is not found."""

import pickle

import pytest
from celery.utils.serialization import get_pickleable_exception
from django.http import Http404

from networks.bundles import BundleError
from plumbing.errors import ServiceError, found


def test_a_refusal_comes_back_from_a_pickle_as_it_was_raised():
    error = ServiceError("network_unshared", "Stop sharing came first.", field="networks", http_status=409)
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is ServiceError
    assert (back.code, back.message, back.field, back.http_status, str(back)) == (
        "network_unshared",
        "Stop sharing came first.",
        "networks",
        409,
        "Stop sharing came first.",
    )
    assert get_pickleable_exception(error) is error  # what a task's failure handler is given


def test_a_subclass_with_its_own_arguments_and_the_default_status_survive_too():
    back = pickle.loads(pickle.dumps(BundleError("key.pem is not a key.")))
    assert type(back) is BundleError
    assert (back.code, back.message, back.field, back.http_status) == (
        "bundle_invalid",
        "key.pem is not a key.",
        "bundle",
        400,
    )
    plain = pickle.loads(pickle.dumps(ServiceError("bad_name", "Pick a name.")))
    assert plain.http_status == 400 and plain.field is None


def test_found_answers_what_the_selector_finds_and_refuses_its_404_in_one_sentence():
    def selector(*, tenant, pk):
        if pk != 7:
            raise Http404("No Container matches the given query.")
        return (tenant, pk)

    assert found(selector, "container", tenant="acme", pk=7) == ("acme", 7)
    with pytest.raises(ServiceError) as refused:
        found(selector, "container", field="container", tenant="acme", pk=8)
    error = refused.value
    assert (error.code, error.message, error.field, error.http_status) == (
        "not_found",
        "No such container.",
        "container",
        404,
    )


def test_found_lets_any_other_error_through():
    def broken(**lookup):
        raise ValueError("a bug, not a missing object")

    with pytest.raises(ValueError):
        found(broken, "network", pk=1)
