"""The Webhooks page and its owners' actions (POST only)."""

from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.webhook_list_view, name="webhook_list"),
    path("<int:pk>/", views.webhook_detail_view, name="webhook_detail"),
    path("<int:pk>/ping/", views.webhook_ping_view, name="webhook_ping"),
    path("<int:pk>/resume/", views.webhook_resume_view, name="webhook_resume"),
    path("<int:pk>/rotate-secret/", views.webhook_rotate_view, name="webhook_rotate"),
    path("<int:pk>/remove/", views.webhook_remove_view, name="webhook_remove"),
    path("<int:pk>/deliveries/<int:delivery_id>/redeliver/", views.webhook_redeliver_view, name="webhook_redeliver"),
]
