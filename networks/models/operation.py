from django.conf import settings
from django.db import models
from django.utils import timezone

from .container import Container
from .network import Network


class OperationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class OperationWaitsOn(models.TextChoices):
    """What an unfinished operation waits for, while it waits: set where the wait starts, cleared where it
    ends. The sentence people read is derived from it (selectors.operation_waiting_for), never the reverse."""

    NOTHING = "", "Nothing"
    TASK_QUEUE = "task_queue", "The task queue"
    WORKER = "worker", "A worker"
    CLUSTER = "cluster", "The cluster"
    STATE_STORE = "state_store", "The cluster's state store"
    DATABASE = "database", "The portal's database"


class OperationQuerySet(models.QuerySet["Operation"]):
    def unfinished(self):
        """Queued or running: a worker has yet to finish them."""
        return self.exclude(status__in=Operation.FINISHED)


class Operation(models.Model):
    """A change a user asked for, done asynchronously by a worker, watched live by the user."""

    class Kind(models.TextChoices):
        NETWORK_CREATE = "network.create", "Create network"
        NETWORK_REMOVE = "network.remove", "Remove network"
        NETWORK_CONNECT = "network.connect", "Connect container"
        NETWORK_DISCONNECT = "network.disconnect", "Disconnect container"
        CONTAINER_RUN = "container.run", "Run container"
        CONTAINER_STOP = "container.stop", "Stop container"
        CONTAINER_START = "container.start", "Start container"
        CONTAINER_RESTART = "container.restart", "Restart container"
        CONTAINER_REMOVE = "container.remove", "Remove container"
        CLUSTER_RECONCILE = "cluster.reconcile", "Reconcile cluster"

    Status = OperationStatus
    WaitsOn = OperationWaitsOn

    # RUNNING -> QUEUED only when a worker died holding it and the operation is handed to another.
    TRANSITIONS = {
        Status.QUEUED: {Status.RUNNING, Status.FAILED},
        Status.RUNNING: {Status.SUCCEEDED, Status.FAILED, Status.QUEUED},
        Status.SUCCEEDED: set(),
        Status.FAILED: set(),
    }
    FINISHED = (Status.SUCCEEDED, Status.FAILED)

    tenant = models.ForeignKey(
        "portal.Tenant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="operations",
        help_text="The team that asked; empty for the cluster's own upkeep (reconcile by an admin or on schedule).",
    )
    cluster = models.ForeignKey("networks.Cluster", on_delete=models.CASCADE, related_name="operations")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    target = models.CharField(max_length=200, help_text="What the operation acts on, in words.")
    network = models.ForeignKey(
        "networks.Network", null=True, blank=True, on_delete=models.SET_NULL, related_name="operations"
    )
    container = models.ForeignKey(
        "networks.Container", null=True, blank=True, on_delete=models.SET_NULL, related_name="operations"
    )
    params = models.JSONField(default=dict, blank=True, help_text="What was asked for; never holds secret values.")
    progress = models.JSONField(default=list, blank=True, help_text="Progress messages, oldest first.")
    transfer = models.JSONField(
        default=dict,
        blank=True,
        help_text="An image pull as it goes: image, layers_done/layers_total, bytes_done/bytes_total.",
    )
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, help_text="Why it failed, as a sentence that says what to do.")
    error_code = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    celery_task_id = models.CharField(max_length=64, blank=True)
    # The operations table is the outbox: empty while the task's message has not reached the broker.
    sent = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the task's message was handed to the task queue; empty while waiting for it.",
    )
    waits_on = models.CharField(
        max_length=16,
        choices=OperationWaitsOn.choices,
        default=OperationWaitsOn.NOTHING,
        blank=True,
        help_text="What it waits for: the task queue (it does not answer), a worker (sent, not yet taken), "
        "the cluster (a Docker call unanswered for a few seconds, or a try that could not reach it), its "
        "state store (Consul) or the portal's database; empty otherwise.",
    )
    waiting_since = models.DateTimeField(
        null=True, blank=True, help_text="Since when it waits for what waits_on names (its first unanswered call)."
    )
    attempts = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    objects = OperationQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "operation"
        verbose_name_plural = "operations"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=OperationStatus.values),
                name="operation_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=OperationStatus.FAILED) | ~models.Q(error=""),
                name="operation_failed_has_error",
            ),
            models.CheckConstraint(
                condition=models.Q(waits_on__in=OperationWaitsOn.values),
                name="operation_waits_on_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status"], name="operation_tenant_status_idx"),
            # The few unfinished among every operation ever made (each swarm's reconcile adds one every 5 minutes):
            # how many are ahead of a queued one (every create's answer), the outbox's and recovery's scans,
            # and the pages' "still changing" look read these rows only.
            models.Index(
                fields=["created"],
                condition=~models.Q(status__in=[OperationStatus.SUCCEEDED, OperationStatus.FAILED]),
                name="operation_unfinished_idx",
            ),
        ]

    @property
    def transfer_or_none(self) -> dict | None:
        return self.transfer or None

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target} ({self.get_status_display()})"

    def network_required(self) -> Network:
        """The network a network operation acts on: each is made with one, and the worker's run reads it."""
        assert self.network is not None, f"operation {self.pk} ({self.kind}) has no network to act on"
        return self.network

    def container_required(self) -> Container:
        """The container a container operation (or a connect) acts on: each is made with one."""
        assert self.container is not None, f"operation {self.pk} ({self.kind}) has no container to act on"
        return self.container

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def last_message(self) -> str:
        return self.progress[-1]["message"] if self.progress else ""

    @property
    def duration(self):
        if self.started is None:
            return None
        return (self.finished or timezone.now()) - self.started
