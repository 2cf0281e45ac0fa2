"""The portal's own pages, mounted at the site's root without a namespace ("home", "dashboard")."""

from django.urls import path

from . import dashboard, views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
