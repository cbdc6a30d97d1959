"""kombu's Redis transport, with one client per channel and the acknowledgement records written unanswered.

kombu builds a new redis-py client for every command outside its BRPOP (`Channel.conn_or_acquire`):
`Redis.__init__` fills a table of ~170 response callbacks, ~0.1 ms of CPU, for each publish in the web and
for each message's unacked record and ack in a worker. A client over a connection pool is safe to share
between threads, so a channel here keeps one. And a worker's record of a message it took (the unacked
hash and its index, which let the broker give the message back after `visibility_timeout` should the
worker die) and the ack that removes it are written on a connection of their own without waiting for
Redis's answer (plumbing/unanswered.py): the task reaches a pool process without that round trip. The
ack follows the record on the same connection, so Redis never sees them the other way round; whatever
reads the records back (a restore at shutdown, a reject, the visibility sweep) first reads the answers
still owed.

Each new connection tells Redis who it is with the description made once per process
(plumbing/redis_driver.py), not read again from redis-py's package metadata (about 0.3 ms of CPU each).

Chosen by `CELERY_BROKER_TRANSPORT` (portal/settings_workers.py) for a redis:// broker.
"""

from __future__ import annotations

from contextlib import contextmanager
from time import time

import redis
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.json import dumps

from .redis_driver import driver_info
from .unanswered import Unanswered


class QoS(kombu_redis.QoS):
    def _unanswered(self) -> Unanswered | None:
        if self.channel.global_keyprefix:  # keys are prefixed by kombu's own client: leave it to that
            return None
        return self.channel.unanswered

    def append(self, message, delivery_tag):
        unanswered = self._unanswered()
        if unanswered is None:
            return super().append(message, delivery_tag)
        delivery = message.delivery_info
        record = dumps([message._raw, delivery["exchange"], delivery["routing_key"]])
        unanswered.send(
            ("ZADD", self.unacked_index_key, time(), delivery_tag),
            ("HSET", self.unacked_key, delivery_tag, record),
        )
        virtual.QoS.append(self, message, delivery_tag)

    def ack(self, delivery_tag):
        unanswered = self._unanswered()
        if unanswered is None:
            return super().ack(delivery_tag)
        unanswered.send(("ZREM", self.unacked_index_key, delivery_tag), ("HDEL", self.unacked_key, delivery_tag))
        virtual.QoS.ack(self, delivery_tag)

    # What reads the records back or changes them another way waits for the answers owed first.
    def reject(self, delivery_tag, requeue=False):
        self.channel.collect()
        return super().reject(delivery_tag, requeue=requeue)

    def restore_unacked(self, client=None):
        self.channel.collect()
        return super().restore_unacked(client)

    def restore_visible(self, *args, **kwargs):
        self.channel.collect()
        return super().restore_visible(*args, **kwargs)

    def restore_by_tag(self, tag, client=None, leftmost=False):
        self.channel.collect()
        return super().restore_by_tag(tag, client=client, leftmost=leftmost)


class Channel(kombu_redis.Channel):
    QoS = QoS
    _reused_client = None
    _unanswered_writes = None

    def _connparams(self, asynchronous=False):
        params = super()._connparams(asynchronous)
        params.setdefault("driver_info", driver_info())
        return params

    @contextmanager
    def conn_or_acquire(self, client=None):
        if client:
            yield client
            return
        if self._reused_client is None:
            self._reused_client = self._create_client()
        yield self._reused_client

    @property
    def unanswered(self) -> Unanswered:
        if self._unanswered_writes is None:
            self._unanswered_writes = Unanswered(self.pool)
        return self._unanswered_writes

    def collect(self) -> None:
        if self._unanswered_writes is not None:
            self._unanswered_writes.collect()

    def close(self):
        writes, self._unanswered_writes = self._unanswered_writes, None
        if writes is not None:
            try:
                writes.collect()
            except redis.RedisError:  # the connection goes now anyway; the broker's sweep restores what it must
                pass
            finally:
                writes.close()
        self._reused_client = None
        super().close()


class Transport(kombu_redis.Transport):
    Channel = Channel
