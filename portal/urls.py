"""The portal's URLs: its own pages, the admin, the REST mirror under /api/v1/ and the networks app."""

from django.contrib import admin
from django.urls import include, path

from . import views
from .forms import LoginForm
from .sso import views as sso_views

# Under /api/ these answer in the API's error shape; elsewhere they are Django's pages (templates/).
handler400 = "plumbing.api.error_views.bad_request"
handler403 = "plumbing.api.error_views.permission_denied"
handler404 = "plumbing.api.error_views.page_not_found"
handler500 = "plumbing.api.error_views.server_error"

urlpatterns = [
    path("tenant/switch/", views.tenant_switch_view, name="tenant_switch"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/", views.membership_update, name="membership_update"),
    path("login/", views.PortalLoginView.as_view(authentication_form=LoginForm), name="login"),
    path("logout/", sso_views.logout_view, name="logout"),
    path("sso/", include("portal.sso.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("tokens/", views.tokens, name="tokens"),
    path("audit/", views.audit, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("webhooks.api.urls")),
    path("api/v1/", include("networks.api.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("", include("networks.urls")),
]
