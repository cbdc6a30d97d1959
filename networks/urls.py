"""The portal's pages (the REST mirror lives in networks/api/urls.py)."""

app_name = "networks"
urlpatterns: list = []
