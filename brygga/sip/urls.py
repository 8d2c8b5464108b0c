from django.urls import path

from brygga.sip import views

app_name = "sip"

urlpatterns = [
    path("", views.index, name="index"),
    path("ny/", views.new_sip, name="new"),
    path("<int:sip_id>/", views.detail, name="detail"),
    path("<int:sip_id>/plan.pdf", views.plan_pdf, name="pdf"),
    path("<int:sip_id>/underteckna/", views.sign_plan, name="sign_plan"),
    path("<int:sip_id>/<slug:name>/", views.action, name="action"),
    path("samtycke/<int:person_id>/", views.consents, name="consents"),
    path("vardbegaran/ny/", views.new_care_request, name="new_care_request"),
    path("vardbegaran/<int:request_id>/", views.care_request, name="care_request"),
    path("vardbegaran/<int:request_id>/<slug:name>/", views.care_request_action, name="care_request_action"),
]
