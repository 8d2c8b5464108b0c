from django.contrib import admin
from django.urls import include, path

from brygga.accounts import urls as account_urls
from brygga.api.api import api
from brygga.cases import urls as case_urls
from brygga.inbox import urls as inbox_urls
from brygga.signin import views as signin_views
from brygga.signin.saml import AcsView
from brygga.web.health import health

admin.site.site_header = "brygga — administration"

urlpatterns = [
    path("healthz", health, name="healthz"),  # answered by brygga.web.health.HealthMiddleware first
    path("readyz", health, name="readyz"),
    path("api/v1/", api.urls),
    path("fhir/r4/", include("brygga.fhir.urls")),
    path("integration/prenumerationer/", include("brygga.fhir.page_urls")),
    # Logging out ends the identity provider's session too, so accounts:logout is the sign-in app's view; the
    # sign-in app sits above accounts (ADR 0009).
    path(
        "konto/",
        include(
            (
                [path("logga-ut/", signin_views.logout_view, name="logout"), *account_urls.urlpatterns],
                account_urls.app_name,
            )
        ),
    ),
    path("inloggning/", include("brygga.signin.urls")),
    path("saml2/acs/", AcsView.as_view(), name="saml2_acs"),  # brygga's decision on djangosaml2's ACS
    path("saml2/", include("djangosaml2.urls")),
    path("logg/", include("brygga.access.urls")),
    # The unit inbox opens /arenden/ and keeps its name cases:inbox; the app sits above cases (ADR 0009).
    path("arenden/", include(([*inbox_urls.urlpatterns, *case_urls.urlpatterns], case_urls.app_name))),
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
