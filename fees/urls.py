from django.urls import path

from . import (
    views,
    views_allocation,
    views_coursera,
    views_credit,
    views_impact,
    views_invoices,
    views_refund_payouts,
    views_remittances,
    views_scrolls,
    views_staff,
)

app_name = "fees"
urlpatterns: list = [
    # The learner's own page (alumni: challan and payment proof; students and faculty: deposit).
    path("me/", views.my_license, name="my_license"),
    path("me/challan.pdf", views.challan_download, name="challan_download"),
    path("me/payment/", views.payment_submit, name="payment_submit"),
    path("me/refund-account/", views_refund_payouts.refund_account, name="refund_account"),
    # The focal person's deposits, scoped to their own university.
    path("deposits/", views.deposits, name="deposits"),
    path("deposits/<int:nomination_id>/", views.deposit_record, name="deposit_record"),
    path("invoices/", views_invoices.focal_invoices, name="focal_invoices"),
    # The focal person pays the refunds out: the payout sheet down, and back with the references.
    path("refund-payouts/", views_refund_payouts.refund_payouts, name="refund_payouts"),
    path("refund-payouts/mark-paid/", views_refund_payouts.refund_mark_paid, name="refund_mark_paid"),
    path("refund-payouts.<str:fmt>", views_refund_payouts.refund_payouts_download, name="refund_payouts_download"),
    # Forfeited deposits the university remits to HEC, on a statement with its own consumer number.
    path("remittances/issue/", views_remittances.remittance_issue_view, name="remittance_issue"),
    path("remittances/<int:pk>.<str:fmt>", views_remittances.remittance_download, name="remittance_download"),
    # Staff-only files beside the admin's records.
    path("files/payment/<int:payment_id>/<str:kind>/", views.payment_file, name="payment_file"),
    path("files/waiver/<int:waiver_id>/", views.waiver_file, name="waiver_file"),
    path("files/invoice/<int:invoice_id>.pdf", views.invoice_pdf, name="invoice_pdf"),
    # Completion reports, refund decisions (HEC staff) and the deposit ledgers (staff and focal persons).
    path("completions/", views_staff.completions_import_view, name="completions_import"),
    path("completions/<int:pk>/", views_staff.completions_import_detail, name="completions_import_detail"),
    path("refunds/", views_staff.refund_cases, name="refund_cases"),
    path("refunds/decide/", views_staff.refunds_decide_view, name="refunds_decide"),
    path("refunds/<int:pk>/correct/", views_staff.refund_decision_correct_view, name="refund_decision_correct"),
    path("ledgers/", views_staff.ledgers, name="ledgers"),
    # HEC staff: changing licenses (a move or a publish) bills a private university's rise.
    path("staff/<slug:phase_slug>/license-moves/", views_allocation.staff_license_moves, name="staff_license_moves"),
    path(
        "staff/<slug:phase_slug>/v<int:version>/publish/",
        views_allocation.staff_allocation_publish,
        name="staff_allocation_publish",
    ),
    path("ledgers/<str:kind>.<str:fmt>", views_staff.ledger_download, name="ledger_download"),
    # What the licenses achieved (HEC staff: everything; a focal person: their own university).
    path("impact/", views_impact.impact, name="impact"),
    path("impact.pdf", views_impact.impact_pdf, name="impact_pdf"),
    # Completions for academic credit (a focal person: their own university; HEC staff: any, or all).
    path("credit/", views_credit.credit_export_page, name="credit_export"),
    path("credit/completions.<str:fmt>", views_credit.credit_export_download, name="credit_export_download"),
    # Bank scrolls (HEC staff): payments collected outside 1Bill, and the rows that wait for a decision.
    path("scrolls/", views_scrolls.bank_scrolls, name="bank_scrolls"),
    path("scrolls/rows/<int:row_id>/<str:how>/", views_scrolls.scroll_row_resolve, name="scroll_row_resolve"),
    # Coursera's API (optional, off unless configured): its syncs and a button to sync now.
    path("coursera/", views_coursera.coursera_api_page, name="coursera_api"),
    path("coursera/sync/", views_coursera.coursera_sync_now, name="coursera_sync_now"),
]
