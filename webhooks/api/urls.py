"""/api/v1/webhooks/: a team's endpoints, their delivery log, ping, send again, rotate, resume."""

from rest_framework.routers import DefaultRouter

from .views import WebhookViewSet

app_name = "webhooks_api"


class Router(DefaultRouter):
    include_root_view = False
    include_format_suffixes = False


router = Router()
router.register("webhooks", WebhookViewSet, basename="webhook")
urlpatterns = router.urls
