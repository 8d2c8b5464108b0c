from django.contrib import admin
from django.urls import include, path

from brygga.api.api import api
from brygga.signin.saml import AcsView
from brygga.web.health import health

admin.site.site_header = "brygga — administration"

urlpatterns = [
    path("healthz", health, name="healthz"),  # answered by brygga.web.health.HealthMiddleware first
    path("readyz", health, name="readyz"),
    path("api/v1/", api.urls),
    path("fhir/r4/", include("brygga.fhir.urls")),
    path("integration/prenumerationer/", include("brygga.fhir.page_urls")),
    path("konto/", include("brygga.accounts.urls")),
    path("inloggning/", include("brygga.signin.urls")),
    path("saml2/acs/", AcsView.as_view(), name="saml2_acs"),  # brygga's decision on djangosaml2's ACS
    path("saml2/", include("djangosaml2.urls")),
    path("logg/", include("brygga.access.urls")),
    path("arenden/", include("brygga.cases.urls")),
    path("sip/", include("brygga.sip.urls")),
    path("betalningsansvar/", include("brygga.payment.urls")),
    path("statistik/", include("brygga.statistics.urls")),
    path("forvaltning/", include("brygga.governance.urls")),
    path("ekonomi/", include("brygga.economy.urls")),
    path("avvikelser/", include("brygga.deviations.urls")),
    path("dokument/", include("brygga.documents.urls")),
    path("aviseringar/", include("brygga.receiving.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("brygga.web.urls")),
]
