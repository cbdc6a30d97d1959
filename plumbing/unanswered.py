"""Redis writes sent at once and their answers read later, for a worker's main process.

Before it hands a task to a pool process, a Celery worker's main process writes two records in Redis:
kombu's record of the unacknowledged message and the portal's record of the tasks it holds
(networks/tasks.py). Waiting for each answer (a round trip, and ~0.1 ms of CPU for redis-py's pipeline)
held every task back by 1-2 ms on a busy machine. `Unanswered` keeps one connection of its own, writes a
command the moment it is asked to, and reads the answers to what it wrote before just ahead of its next
write (or when told to): Redis runs one connection's commands in the order they came, so a later write on
the same connection follows the earlier one, and an error Redis answered is still raised, one write later.
One thread uses it at a time (the worker's event loop).
"""

from __future__ import annotations

import redis
from redis.connection import Connection


class Unanswered:
    def __init__(self, pool: redis.ConnectionPool):
        self.pool = pool
        self.connection: Connection | None = None
        self.pending = 0  # answers not read yet

    def send(self, *commands: tuple) -> None:
        """Write `commands` (each a tuple such as ("SET", key, value)) without waiting for their answers.
        Raises redis.RedisError when they cannot be written, or, once they are, when an earlier write failed
        (its answer an error, or its connection lost before the answer came)."""
        earlier = None
        try:
            self.collect()
        except redis.RedisError as error:
            earlier = error
        connection = self.connection
        if connection is None:
            connection = self.connection = self.pool.get_connection()
        try:
            connection.send_packed_command(connection.pack_commands(commands))
        except BaseException:
            self.close()
            raise
        self.pending += len(commands)
        if earlier is not None:
            raise earlier

    def collect(self) -> None:
        """Read the answers to what was written before (waiting for them if they have not come yet)."""
        connection = self.connection
        if not self.pending or connection is None:
            return
        failure = None
        try:
            while self.pending:
                self.pending -= 1
                try:
                    connection.read_response()
                except redis.ResponseError as error:  # the command failed; the connection is sound
                    failure = failure or error
        except BaseException:
            self.close()
            raise
        if failure is not None:
            raise failure

    def close(self) -> None:
        """Give up the connection (a broken one, or at the end); answers not read are dropped with it."""
        connection, self.connection, self.pending = self.connection, None, 0
        if connection is not None:
            connection.disconnect()
            self.pool.release(connection)
