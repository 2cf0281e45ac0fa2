from django.urls import path

from . import views, views_nominations

app_name = "fees"
urlpatterns: list = [
    path("nominations/<int:upload_id>/confirm/", views_nominations.nominations_confirm, name="nominations_confirm"),
    # The learner's own page (alumni: challan and payment proof; students and faculty: deposit).
    path("me/", views.my_license, name="my_license"),
    path("me/challan.pdf", views.challan_download, name="challan_download"),
    path("me/payment/", views.payment_submit, name="payment_submit"),
    # The focal person's deposits, scoped to their own university.
    path("deposits/", views.deposits, name="deposits"),
    path("deposits/<int:nomination_id>/", views.deposit_record, name="deposit_record"),
    # Staff-only files beside the admin's records.
    path("files/payment/<int:payment_id>/<str:kind>/", views.payment_file, name="payment_file"),
    path("files/challan/<int:challan_id>.pdf", views.challan_file, name="challan_file"),
    path("files/waiver/<int:waiver_id>/", views.waiver_file, name="waiver_file"),
    path("files/invoice/<int:invoice_id>.pdf", views.invoice_pdf, name="invoice_pdf"),
]
