"""1Bill's biller API, at the paths the bank network is configured with (``/api/1bill/…``)."""

from django.urls import path

from . import views_onebill

app_name = "onebill"
urlpatterns = [
    path("BillInquiry", views_onebill.bill_inquiry, name="bill_inquiry"),
    path("BillPayment", views_onebill.bill_payment, name="bill_payment"),
]
