"""A team's webhooks over the API: every member reads them and their delivery log; owners add, remove,
rotate secrets, resume, send a ping or a delivery again (the same services as the Webhooks page)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from plumbing.api.fields import valid
from plumbing.errors import found
from portal.actors import Actor
from portal.api.base import TenantViewSet

from ..selectors import webhook_delivery_get, webhook_delivery_list, webhook_endpoint_get, webhook_endpoint_list
from ..services import endpoints as services
from .serializers import WebhookCreateSerializer, WebhookDeliverySerializer, WebhookSecretSerializer, WebhookSerializer


@extend_schema_view(
    list=extend_schema(summary="The team's webhook endpoints (never their secrets)"),
    retrieve=extend_schema(summary="A webhook endpoint (never its secret)"),
)
class WebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    serializer_class = WebhookSerializer
    noun = "webhook"
    role_required = "manage"
    manage_refusal = services.OWNERS_ONLY
    selector_get = staticmethod(webhook_endpoint_get)
    ordering_fields = ["url", "created", "status"]
    ordering = ["created"]

    def scoped_queryset(self):
        return webhook_endpoint_list(tenant=self.request.tenant)

    def secret_answer(self, endpoint, secret: str, code=status.HTTP_200_OK) -> Response:
        endpoint = webhook_endpoint_get(tenant=self.request.tenant, pk=endpoint.pk)
        endpoint.secret = secret
        return Response(WebhookSecretSerializer(endpoint).data, status=code)

    @extend_schema(
        summary="Add an endpoint; the answer holds its signing secret, shown this once",
        request=WebhookCreateSerializer,
        responses={201: WebhookSecretSerializer},
    )
    def create(self, request):
        data = valid(WebhookCreateSerializer, request)
        endpoint, secret = services.endpoint_create(actor=Actor.of(request), tenant=request.tenant, **data)
        return self.secret_answer(endpoint, secret, status.HTTP_201_CREATED)

    @extend_schema(summary="Remove an endpoint and its delivery log", responses={204: None})
    def destroy(self, request, pk=None):
        services.endpoint_remove(actor=Actor.of(request), endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="A new signing secret (shown this once); the old one also signs for WEBHOOK_SECRET_OVERLAP_HOURS",
        request=None,
        responses={200: WebhookSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = self.get_object()
        secret = services.endpoint_rotate_secret(actor=Actor.of(request), endpoint=endpoint)
        return self.secret_answer(endpoint, secret)

    @extend_schema(summary="Send again after a pause, from the oldest delivery waiting", request=None)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        endpoint = services.endpoint_resume(actor=Actor.of(request), endpoint=self.get_object())
        return Response(WebhookSerializer(webhook_endpoint_get(tenant=request.tenant, pk=endpoint.pk)).data)

    @extend_schema(summary="Send a test event (webhook.ping)", request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        delivery = services.endpoint_ping(actor=Actor.of(request), endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="The delivery log: each event sent or waiting, newest first, with every attempt")
    @action(detail=True, methods=["get"], serializer_class=WebhookDeliverySerializer, ordering_fields=[], ordering=[])
    def deliveries(self, request, pk=None):
        page = self.paginate_queryset(webhook_delivery_list(endpoint=self.get_object()))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Send a delivery again (same webhook-id), with a fresh round of retries",
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[0-9]{1,18})/redeliver")
    def redeliver(self, request, pk=None, delivery_id=None):
        endpoint = self.get_object()
        delivery = found(webhook_delivery_get, "delivery", endpoint=endpoint, pk=delivery_id)
        delivery = services.delivery_send_again(actor=Actor.of(request), delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
