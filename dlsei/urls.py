from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from registrations import views_accounts

from . import bench_views

# The admin's own sign-in form has no attempt limit: send it to allauth's rate-limited sign-in.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", include("portal.urls")),
    # The focal person's nominations file, in the "portal" namespace, at the addresses it always had.
    path("", include("portal.urls_nominations_file")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Sign-in by code with the portal's account rule (registrations.accounts); the rest is allauth's.
    path("accounts/login/code/", views_accounts.request_login_code, name="account_request_login_code"),
    path("accounts/login/code/confirm/", views_accounts.confirm_login_code, name="account_confirm_login_code"),
    path("accounts/", include("allauth.urls")),
    path("quotas/", include("quotas.urls")),
    path("registrations/", include("registrations.urls")),
    path("fees/", include("fees.urls")),
    # 1Bill's biller API, called by the bank network (fees.views_onebill).
    path("api/1bill/", include("fees.urls_onebill")),
    path("admin/", admin.site.urls),
]

if settings.BENCH_ENDPOINTS:
    urlpatterns.append(path("bench/ceiling/", bench_views.ceiling, name="bench_ceiling"))

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
