from django.urls import path

from brygga.payment import views

app_name = "payment"

urlpatterns = [
    path("", views.settlement_list, name="settlement_list"),
    path("avrakna/", views.run_month, name="run_month"),
    path("<int:run_id>/", views.settlement_detail, name="settlement_detail"),
    path("<int:run_id>/bestrid/", views.dispute, name="dispute"),
    path("<int:run_id>/stang/", views.close, name="close"),
    path("<int:run_id>/underlag.<str:fmt>", views.export, name="export"),
    path("<int:run_id>/underlag.<str:fmt>/bestall/", views.request_export, name="export_request"),
    path("<int:run_id>/fil/<int:export_id>/", views.export_status, name="export_status"),
    path("<int:run_id>/fil/<int:export_id>/hamta/", views.export_download, name="export_download"),
    path("tvist/<int:dispute_id>/beslut/", views.resolve, name="resolve"),
    path("regler/", views.rules, name="rules"),
    path("arende/<int:case_id>/", views.case_payment, name="case"),
    path("regler/belopp/", views.record_amount, name="record_amount"),
    path("regler/<slug:code>/andra/", views.change_rule, name="change_rule"),
]
