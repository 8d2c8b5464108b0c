from django.urls import path

from brygga.documents import views

app_name = "documents"

urlpatterns = [
    path("person/<int:person_id>/", views.person_documents, name="person"),
    path("person/<int:person_id>/bilaga", views.upload, name="upload"),
    path("person/<int:person_id>/nytt-dokument", views.create_document, name="create"),
    path("person/<int:person_id>/pappersrutin", views.paper_record, name="paper_record"),
    path("bilaga/<int:attachment_id>/", views.download, name="download"),
    path("<int:document_id>/", views.document, name="document"),
    path("<int:document_id>/ny-version", views.revise, name="revise"),
    path("version/<int:version_id>/underteckna", views.sign, name="sign"),
    path("underskriftstjanst/svar", views.signservice_response, name="signservice_response"),
    path("version/<int:version_id>/pdf", views.version_pdf, name="version_pdf"),
    path("kontrollera-underskrift/", views.verify_upload, name="verify"),
    path("utdrag/", views.extract_requests, name="extract_requests"),
    path("utdrag/<int:request_id>/", views.extract_request, name="extract_request"),
    path("utdrag/<int:request_id>/pdf", views.extract_pdf, name="extract_pdf"),
    path("reservrutin/", views.backups, name="backups"),
    path("reservrutin/nytt", views.backup_now, name="backup_now"),
    path("reservrutin/mottagare", views.backup_destination, name="backup_destination"),
    path("reservrutin/<int:snapshot_id>/", views.backup_download, name="backup_download"),
]
