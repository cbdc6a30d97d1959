"""What the web server checks and prepares before it serves: its processes count the limits in one
shared place, and each has built what its first requests would otherwise each build (`warm`).

The API's rate limit and its wrong-token limit count in Django's cache (the login lockout counts in
the database). The default cache is each process's own memory, so N gunicorn processes would each
count a part and a client would get N times its limit. A web server of more than one process with
such a cache is refused at start, with what to set.

Used as gunicorn configuration (deploy/gunicorn.conf.py imports `on_starting`; scripts/serve passes
`-c python:portal.webserver`), and before anything starts by scripts/serve:
`python -m portal.webserver WORKERS` exits 1 with the sentence.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from django.conf import settings  # noqa: E402 (after the settings module is named)

# Caches that no two processes share: each counts alone (the dummy one never counts at all).
PROCESS_OWN_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def unshared_cache_refusal(workers: int) -> str | None:
    """The sentence that refuses `workers` web processes with a cache they do not share, or None."""
    backend = settings.CACHES["default"]["BACKEND"]
    if workers <= 1 or backend not in PROCESS_OWN_CACHES:
        return None
    return (
        f"Refusing to start {workers} web processes without a shared cache: each would count the API's rate "
        f"limit and wrong tokens in its own memory, so a client would get {workers} times its limit. Set "
        "CACHE_URL to a Redis every web process reaches, such as redis://127.0.0.1:6379/1 (another database "
        "number than the task queue's), or run one web process."
    )


def warm() -> None:
    """Build, once per web process before it serves, what Django and Celery build on first use.

    Django fills its URL resolvers' tables on the first `reverse()` (every answer's `url`), and each thread
    that reverses before the first has finished fills them again: a gunicorn process's first burst of
    creates spent about a sixth of its CPU there (bench/e2e.py, issue 28). A namespaced name ("api:...")
    is reversed by a resolver of its namespace, made and filled on its first use (about 4 ms of CPU), so
    each namespace's is filled here too. Celery imports the broker's transport and builds its producer pool
    on the first send, and the parts of a task's message that every send shares (its sender, the event
    dispatcher it is handed, the routes) on the first send too, which was a create's. The services'
    prepared queries (plumbing/prepared.py) are compiled here too, not in the process's first requests
    (a create's eight cost it about 6 ms of CPU). Nothing here connects to anything.

    Last, what the process holds by now (Django, the apps, the tables just built: some 150,000 objects)
    is moved out of the garbage collector's sight (`gc.freeze`, after a collection of what the start left
    over). Python's full collection walks every object it tracks; each process ran its first ones in its
    first requests, about 55 ms of CPU each (a burst of 50 creates at once on 5 processes paid 5 of them,
    about 5 ms a create), and again whenever the objects made since had grown by a quarter. What is
    frozen is never freed: it lives as long as the process anyway."""
    import gc

    from celery import current_app
    from django.urls import get_resolver

    from plumbing.prepared import compile_every

    _fill_resolvers(get_resolver())  # imports the URLs, the views and the services they call
    compile_every()  # their prepared queries, but those that lock
    app = current_app._get_current_object()
    app.producer_pool  # noqa: B018 (imports the transport; its connections open on first use)
    app.amqp.send_task_message  # noqa: B018 (the sender, its event dispatcher, the router, the queues)
    app.amqp.router  # noqa: B018
    gc.collect()
    gc.freeze()


def _fill_resolvers(resolver, prefix: str = "", converters: dict | None = None) -> None:
    """Fill `resolver`'s tables for the default language, and those of the resolver `reverse()` makes for each
    namespace under it (`get_ns_resolver`, kept per process), as a reverse of a name in it would."""
    from django.urls.resolvers import get_ns_resolver

    resolver.reverse_dict  # noqa: B018 (fills reverse_dict, namespace_dict and app_dict)
    for extra, child in resolver.namespace_dict.values():
        pattern, found = prefix + extra, {**(converters or {}), **child.pattern.converters}
        get_ns_resolver(pattern, child, tuple(found.items())).reverse_dict  # noqa: B018
        _fill_resolvers(child, pattern, found)


def on_starting(server) -> None:
    """gunicorn's hook in its master process, before any worker is started."""
    refusal = unshared_cache_refusal(server.cfg.workers)
    if refusal:
        server.log.error(refusal)
        raise SystemExit(1)


if __name__ == "__main__":
    sentence = unshared_cache_refusal(int(sys.argv[1]))
    if sentence:
        print(sentence, file=sys.stderr)
        raise SystemExit(1)
