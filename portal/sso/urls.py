"""Single sign-on's URLs under /sso/: the start and the provider's way back (the redirect URI to register
at the provider is https://<portal>/sso/callback/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("start/", views.SsoStartView.as_view(), name="sso_start"),
    path("callback/", views.sso_callback, name="sso_callback"),
    path("no-team/", views.sso_no_team, name="sso_no_team"),
]
