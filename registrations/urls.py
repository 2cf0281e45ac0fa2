from django.urls import path

from . import views, views_alumni, views_files, views_focal, views_reclaim, views_staff

app_name = "registrations"
urlpatterns: list = [
    path("welcome/<str:uidb64>/<str:token>/", views.welcome, name="welcome"),
    # The focal person's pages, all scoped to their own university.
    path("focal/", views_focal.focal_dashboard, name="focal_dashboard"),
    path("focal/disclaimer/", views_focal.focal_disclaimer, name="focal_disclaimer"),
    path("focal/disclaimer/form.pdf", views_focal.focal_disclaimer_form, name="focal_disclaimer_form"),
    path("focal/template.<str:fmt>", views_focal.focal_template, name="focal_template"),
    # focal/upload/…, the nominations file (upload, preview, refused rows), is portal's (urls_nominations_file).
    path("focal/nominees/", views_focal.focal_nominees, name="focal_nominees"),
    path("focal/nominees/add/", views_focal.focal_nominee_add, name="focal_nominee_add"),
    path("focal/nominees/<int:pk>/", views_focal.focal_nominee, name="focal_nominee"),
    path("focal/nominees/<int:pk>/withdraw/", views_focal.focal_nominee_withdraw, name="focal_nominee_withdraw"),
    # Alumni and learners.
    path("alumni/register/", views_alumni.alumni_register, name="alumni_register"),
    path("me/", views_alumni.my_status, name="my_status"),
    # Private files, served only to the people allowed to see them.
    path("files/disclaimer/<int:pk>/", views_files.file_disclaimer, name="file_disclaimer"),
    path("files/upload/<int:pk>/", views_files.file_nomination_upload, name="file_nomination_upload"),
    path("files/nomination/<int:pk>/<str:kind>/", views_files.file_nomination, name="file_nomination"),
    # HEC staff: utilisation of the quotas (with waiting lists) and moving unused licenses.
    path("staff/<slug:phase_slug>/utilisation/", views_staff.staff_utilisation, name="staff_utilisation"),
    path("staff/<slug:phase_slug>/reserve-release/", views_staff.staff_reserve_release, name="staff_reserve_release"),
    path(
        "staff/<slug:phase_slug>/utilisation.<str:fmt>",
        views_staff.staff_utilisation_export,
        name="staff_utilisation_export",
    ),
    # Learners who never joined the Coursera program: their seats reclaimed for the waiting lists.
    path("staff/<slug:phase_slug>/unclaimed/", views_reclaim.staff_unclaimed, name="staff_unclaimed"),
]
