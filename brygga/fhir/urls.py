from django.urls import path, re_path

from brygga.fhir import subscription_views, views

app_name = "fhir"

ID = r"(?P<pk>[A-Za-z0-9\-\.]{1,64})"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("Patient", views.patient_type, name="patient-type"),
    re_path(rf"^Patient/{ID}$", views.patient_read, name="patient"),
    path("Organization", views.organization_search, name="organization-type"),
    re_path(rf"^Organization/{ID}$", views.organization_read, name="organization"),
    path("Encounter", views.encounter_type, name="encounter-type"),
    re_path(rf"^Encounter/{ID}$", views.encounter_instance, name="encounter"),
    path("Task", views.task_type, name="task-type"),
    re_path(rf"^Task/{ID}$", views.task_instance, name="task"),
    path("Communication", views.communication_type, name="communication-type"),
    re_path(rf"^Communication/{ID}$", views.communication_read, name="communication"),
    path("Consent", views.consent_search, name="consent-type"),
    path("AuditEvent", views.audit_event_search, name="auditevent-type"),
    re_path(rf"^CarePlan/{ID}$", views.careplan_read, name="careplan"),
    path("PractitionerRole", views.practitioner_role_search, name="practitionerrole-type"),
    re_path(rf"^PractitionerRole/{ID}$", views.practitioner_role_read, name="practitionerrole"),
    path("Appointment", views.appointment_search, name="appointment-type"),
    re_path(rf"^Appointment/{ID}$", views.appointment_read, name="appointment"),
    path("DocumentReference", views.document_reference_search, name="documentreference-type"),
    re_path(rf"^DocumentReference/{ID}$", views.document_reference_read, name="documentreference"),
    re_path(rf"^Binary/{ID}$", views.binary_read, name="binary"),
    path("Provenance", views.provenance_search, name="provenance-type"),
    re_path(rf"^Provenance/{ID}$", views.provenance_read, name="provenance"),
    path("SubscriptionTopic", subscription_views.topic_search, name="topic-type"),
    re_path(rf"^SubscriptionTopic/{ID}$", subscription_views.topic_read, name="topic"),
    path("Subscription", subscription_views.subscription_type, name="subscription-type"),
    re_path(
        rf"^Subscription/{ID}/\$status$", subscription_views.subscription_status, name="subscription-status"
    ),
    re_path(rf"^Subscription/{ID}$", subscription_views.subscription_instance, name="subscription"),
]
