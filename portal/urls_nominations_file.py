"""The focal person's nominations file (portal.views_nominations_file), in the "portal" namespace.

Mounted at the site's root: the pages keep the addresses they always had, under the focal
person's pages and under /fees/ for the confirmation (bookmarks, links in e-mails).
"""

from django.urls import path

from . import views_nominations_file as views

app_name = "portal"
urlpatterns = [
    path("registrations/focal/upload/", views.nominations_upload, name="nominations_upload"),
    path("registrations/focal/upload/<int:upload_id>/", views.nominations_preview, name="nominations_preview"),
    path(
        "registrations/focal/upload/<int:upload_id>/refused.<str:fmt>",
        views.nominations_refused_rows,
        name="nominations_refused_rows",
    ),
    path("fees/nominations/<int:upload_id>/confirm/", views.nominations_confirm, name="nominations_confirm"),
]
