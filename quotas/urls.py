from django.urls import path

from . import views

app_name = "quotas"
urlpatterns: list = [
    # HEC staff: the allocation of each phase, versioned; preview before publishing.
    path("", views.phase_list, name="phase_list"),
    path("<slug:phase_slug>/", views.allocation_list, name="allocation_list"),
    path("<slug:phase_slug>/run/", views.allocation_run, name="allocation_run"),
    path("<slug:phase_slug>/v<int:version>/", views.allocation_preview, name="allocation_preview"),
]
