"""The portal's own pages, mounted at the site's root without a namespace ("home", "dashboard")."""

from django.urls import path

from . import dashboard, views

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers ask for /favicon.ico whatever the page links: the same icon, not a 404 in every log.
    path("favicon.ico", views.favicon, name="favicon"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
