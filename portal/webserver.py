"""What the web server checks and prepares before it serves: its processes count the limits in one
shared place, and each has built what its first requests would otherwise each build (`warm`) and connected
what they would connect (`ready`).

The API's rate limit and its wrong-token limit count in Django's cache (the login lockout counts in
the database). The default cache is each process's own memory, so N gunicorn processes would each
count a part and a client would get N times its limit. A web server of more than one process with
such a cache is refused at start, with what to set.

Used as gunicorn configuration (deploy/gunicorn.conf.py imports its hooks `on_starting` and
`post_worker_init`; scripts/serve passes `-c python:portal.webserver`), and before anything starts by scripts/serve:
`python -m portal.webserver WORKERS` exits 1 with the sentence (and `--default-workers` prints how many
processes it starts when WEB_WORKERS is not set: `default_workers`).
"""

from __future__ import annotations

import logging
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from django.conf import settings  # noqa: E402 (after the settings module is named)

logger = logging.getLogger(__name__)

# Caches that no two processes share: each counts alone (the dummy one never counts at all).
PROCESS_OWN_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def default_workers(cores: int | None = None) -> int:
    """The web processes for a machine of `cores` (this process's, by default): one more than its cores, at most
    12. Each computes WEB_ACTIVE_REQUESTS requests at once and holds its many threads for the waiting ones, so
    more processes than cores only take turns on them. On the 2-core VM, 3 against 5 (gunicorn's 2 x cores + 1,
    meant for sync workers), seven pairs of bench/e2e.py --creates in turns: 50 POSTs at once until all
    succeeded, each run's median batch, 709-967 ms (median 780) against 731-929 (844); web + worker CPU per
    create 13.6-18.0 ms (14.4) against 14.2-17.8 (15.2). bench/load.py, 50 people: 29.5 req/s, reads p95 66 ms
    against 28.5 req/s, 71 ms."""
    return min((cores or len(os.sched_getaffinity(0))) + 1, 12)


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
    (a create's eight cost it about 6 ms of CPU), and the serializers made (`_build_serializers`). Nothing
    here connects to anything: `ready` does, in a gunicorn process.

    Last, what the process holds by now (Django, the apps, the tables just built: some 150,000 objects)
    is moved out of the garbage collector's sight (`gc.freeze`, after a collection of what the start left
    over). Python's full collection walks every object it tracks; each process ran its first ones in its
    first requests, about 55 ms of CPU each (a burst of 50 creates at once on 5 processes paid 5 of them,
    about 5 ms a create), and again whenever the objects made since had grown by a quarter. What is
    frozen is never freed: it lives as long as the process anyway."""
    from celery import current_app
    from django.urls import get_resolver

    from plumbing.prepared import compile_every
    from plumbing.redis_driver import driver_info

    _fill_resolvers(get_resolver())  # imports the URLs, the views and the services they call
    compile_every()  # their prepared queries, but those that lock
    _build_serializers()
    driver_info()  # what each new connection to Redis says of itself (plumbing/redis_driver.py)
    app = current_app._get_current_object()
    app.producer_pool  # noqa: B018 (imports the transport; its connections open on first use)
    app.amqp.send_task_message  # noqa: B018 (the sender, its event dispatcher, the router, the queues)
    app.amqp.router  # noqa: B018
    _freeze()


def ready(app=None) -> None:
    """Connect, once per web process before it serves, what its first create connects, and build what only
    a connection builds: gunicorn's hook `post_worker_init` calls it, after `warm`.

    A process's first create cost 15-16 ms of CPU against 7-9 ms for the next ones (one gunicorn process, after
    a GET; 9-10 ms with this), and a burst of 50 at once on 5 processes paid it in each: the database pool
    (psycopg_pool imported, its first connection: about 13 ms of CPU when a create is the process's first
    request) and, on that connection inside a transaction, the swarm's lock compiled (a prepared query that
    locks: plumbing/prepared.py `compile_every`, about 2 ms), the shared cache's first connection (about 2.5
    ms) and the task queue's (kombu connects, Redis is told who asks, the queues are declared on a producer's
    first send: about 3 ms). The pool and the task queue wait at most READY_SECONDS, the cache its own connect
    timeout (CACHES' OPTIONS); one that does not answer is logged and left to the first request that needs
    it, which connects as it always did (the task queue's outbox keeps a create that finds it down: 202 all
    the same). `app`: the Celery app whose task queue to connect (the process's own by default)."""
    from celery import current_app

    _database_ready()
    _cache_ready()
    _queue_ready(app or current_app._get_current_object())
    _freeze()


# How long a web process's start waits for each of the database's pool and the task queue when they do not
# answer: then it serves all the same (a refused connection is answered at once; this is for a silent host).
READY_SECONDS = 1.0


def _database_ready() -> None:
    """The database pool opened, and its first connection's transaction used to compile the prepared queries
    that lock. Only with a pool (scripts/serve's DATABASE_POOL_SIZE), whose wait is bounded: a thread's own
    connection would only serve this thread, which serves no request."""
    from django.db import DatabaseError, connection, transaction

    pool = getattr(connection, "pool", None)
    if pool is None:
        return
    from psycopg_pool import PoolTimeout

    from plumbing.prepared import compile_every

    try:
        pool.open()
        # Not `pool.wait(timeout)`, which closes the pool for good when it times out.
        pool.putconn(pool.getconn(timeout=READY_SECONDS))
        with transaction.atomic():  # the connection just put back
            compile_every()  # inside a transaction: those that lock too
    except (DatabaseError, PoolTimeout) as error:
        logger.warning(
            "The database did not answer before this web process served (%s): its first request connects.", error
        )
    finally:
        connection.close()  # back to the pool


def _cache_ready() -> None:
    """The shared cache's first connection (the API's identity cache and limits read it in every request)."""
    from django.core.cache import cache

    try:
        cache.get(READY_KEY)
    except Exception as error:  # any cache backend's failure: the requests that read it say so in turn
        logger.warning(
            "The cache did not answer before this web process served (%s): its first request connects.", error
        )


READY_KEY = "overlay-portal:web-ready"  # never written: reading it only connects


def _queue_ready(app) -> None:
    """A producer of the task queue's pool connected, with the queues a send declares declared on it, as the
    first send would (kombu remembers them per connection)."""
    from kombu.exceptions import OperationalError

    try:
        with app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=0)  # one try, within socket_connect_timeout
            for queue in app.amqp.queues.values():
                producer.maybe_declare(queue)
    except (OperationalError, OSError) as error:
        logger.warning(
            "The task queue did not answer before this web process served (%s): its first send connects.", error
        )


def _freeze() -> None:
    """What the process holds by now moved out of the garbage collector's sight, after a collection of what the
    start left over (`warm`)."""
    import gc

    gc.collect()
    gc.freeze()


def _build_serializers() -> None:
    """Each request body's fields (plumbing/api/fields.py) and each answer's row plan and answerer
    (plumbing/api/rows.py), made once per class on first use: a create's cost its process's first one about
    2.6 ms of CPU; all of them (18 bodies, 2 answers) cost a start about 7 ms."""
    from plumbing.api.fields import StrictSerializer
    from plumbing.api.rows import RowSerializer

    for serializer in _subclasses(StrictSerializer):
        serializer().fields  # noqa: B018
    for row_serializer in _subclasses(RowSerializer):
        row_serializer.answerer()


def _subclasses(cls: type) -> list:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_subclasses(direct))]


def _fill_resolvers(resolver, prefix: str = "", converters: dict | None = None) -> None:
    """Fill `resolver`'s tables for the default language, and those of the resolver `reverse()` makes for each
    namespace under it (`get_ns_resolver`, kept per process), as a reverse of a name in it would."""
    from django.urls.resolvers import get_ns_resolver

    resolver.reverse_dict  # noqa: B018 (fills reverse_dict, namespace_dict and app_dict)
    for extra, child in resolver.namespace_dict.values():
        pattern, found = prefix + extra, {**(converters or {}), **child.pattern.converters}
        get_ns_resolver(pattern, child, tuple(found.items())).reverse_dict  # noqa: B018
        _fill_resolvers(child, pattern, found)


def post_worker_init(worker) -> None:
    """gunicorn's hook in each worker process, once it loaded the portal (`warm` ran), before it serves."""
    ready()


def on_starting(server) -> None:
    """gunicorn's hook in its master process, before any worker is started."""
    refusal = unshared_cache_refusal(server.cfg.workers)
    if refusal:
        server.log.error(refusal)
        raise SystemExit(1)


if __name__ == "__main__":
    if sys.argv[1] == "--default-workers":
        print(default_workers())
        raise SystemExit(0)
    sentence = unshared_cache_refusal(int(sys.argv[1]))
    if sentence:
        print(sentence, file=sys.stderr)
        raise SystemExit(1)
