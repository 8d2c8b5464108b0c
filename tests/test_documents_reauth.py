"""A signature asks for a fresh authentication at the moment of signing (issue 16, part 2; DOK-SIG-9):
password (and TOTP code when the account has one) for local accounts, a forced identity-provider sign-in
(SITHS) through the session proof for the others. A refused signature changes nothing. The page names the
signer by name and HSA-id."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brygga.access.models import Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.accounts.services import store_totp_secret
from brygga.core.errors import DomainError
from brygga.documents.models import Signature
from brygga.documents.reauth import FRESH_FOR, confirm_with_password, mark_fresh_authentication
from brygga.documents.signed import create_document, sign_version, signer_label
from tests.factories import WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

PASSWORD = "Rätt-lösenord-för-test-1"  # noqa: S105 — a test account's password


@pytest.fixture(autouse=True)
def fresh_auth_required(settings, isolated_documents: Path) -> None:  # type: ignore[no-untyped-def]
    settings.BRYGGA_SIGNING_FRESH_AUTH = True


@pytest.fixture
def nurse_and_version():  # type: ignore[no-untyped-def]
    nurse = actor(Role.WARD_NURSE, WARD, username="sjukskoterska")
    nurse.user.set_password(PASSWORD)
    nurse.user.save()
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.OTHER, "test:1")
    version = create_document(nurse, person.pk, "person", str(person.pk), "Epikris", "Text.")
    return nurse, version


def test_dok_sig_9_without_a_fresh_authentication_nothing_is_signed(nurse_and_version) -> None:  # type: ignore[no-untyped-def]
    nurse, version = nurse_and_version
    with pytest.raises(DomainError) as refused:
        sign_version(nurse, version.pk)
    assert refused.value.problems[0].rule == "DOK-SIG-9" and refused.value.status == 403
    version.refresh_from_db()
    assert version.sha256 == version.unsigned_sha256 and not Signature.objects.exists()


def test_the_password_again_signs_and_a_wrong_one_counts_towards_the_lock_out(nurse_and_version) -> None:  # type: ignore[no-untyped-def]
    nurse, version = nurse_and_version
    with pytest.raises(DomainError) as refused:
        confirm_with_password(nurse.user, "fel")
    assert refused.value.problems[0].rule == "DOK-SIG-9"
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get(username=nurse.user.username).failures_since_start == 1
    signature = sign_version(nurse, version.pk, confirmation=confirm_with_password(nurse.user, PASSWORD))
    assert signature.signer == nurse.user


def test_an_account_with_a_second_factor_also_gives_its_code(nurse_and_version) -> None:  # type: ignore[no-untyped-def]
    nurse, version = nurse_and_version
    secret = pyotp.random_base32()
    store_totp_secret(nurse.user, secret, confirmed=True)  # sealed at rest (ADR 0502)
    with pytest.raises(DomainError) as refused:
        confirm_with_password(nurse.user, PASSWORD, "000000")
    assert refused.value.problems[0].field == "totp"
    code = pyotp.TOTP(secret).now()
    confirmation = confirm_with_password(nurse.user, PASSWORD, code)
    assert confirmation.method == "password+totp"
    sign_version(nurse, version.pk, confirmation=confirmation)


def test_a_confirmation_is_only_fresh_for_a_short_while_and_only_for_its_user(nurse_and_version) -> None:  # type: ignore[no-untyped-def]
    nurse, version = nurse_and_version
    confirmation = confirm_with_password(nurse.user, PASSWORD)
    other = actor(Role.WARD_NURSE, WARD, username="annan")
    with pytest.raises(DomainError):
        sign_version(other, version.pk, confirmation=confirmation)
    with time_machine.travel(timezone.now() + FRESH_FOR + FRESH_FOR / 2), pytest.raises(DomainError):
        sign_version(nurse, version.pk, confirmation=confirmation)
    assert not Signature.objects.exists()


def test_the_web_form_asks_for_the_password_and_names_the_signer_by_name_and_hsa_id(
    nurse_and_version,
) -> None:  # type: ignore[no-untyped-def]
    nurse, version = nurse_and_version
    client = Client()
    client.force_login(nurse.user)
    page = client.get(reverse("documents:document", args=[version.document_id])).content.decode()
    assert 'name="password"' in page and unit(WARD).hsa_id in page
    refused = client.post(reverse("documents:sign", args=[version.pk]), {"password": "fel"})
    assert refused.status_code == 403 and "Lösenordet stämmer inte" in refused.content.decode()
    assert not Signature.objects.exists()
    typed = client.post(reverse("documents:sign", args=[version.pk]), {"password": PASSWORD})
    assert typed.status_code == 302
    signature = Signature.objects.get()
    assert signature.signer_label == signer_label(nurse) and unit(WARD).hsa_id in signature.signer_label


def test_a_siths_user_signs_after_the_identity_providers_forced_sign_in(settings, nurse_and_version) -> None:  # type: ignore[no-untyped-def]
    nurse, version = nurse_and_version
    nurse.user.set_unusable_password()
    nurse.user.hsa_id = "SE2321000131-P000000000001"
    nurse.user.save()
    settings.BRYGGA_SIGNING_REAUTH_URL = "/konto/siths/"
    client = Client()
    client.force_login(nurse.user)
    page = client.get(reverse("documents:document", args=[version.document_id])).content.decode()
    assert "/konto/siths/?next=" in page and 'name="password"' not in page
    assert "SE2321000131-P000000000001" in page
    assert client.post(reverse("documents:sign", args=[version.pk])).status_code == 403
    # What the identity provider's callback does after a forced re-authentication (issue 15's hook):
    request = client.get("/").wsgi_request
    request.session = client.session
    mark_fresh_authentication(request, "siths")
    request.session.save()
    assert client.post(reverse("documents:sign", args=[version.pk])).status_code == 302
    assert Signature.objects.get().signer_label.endswith("SE2321000131-P000000000001")
    # The proof was consumed: it does not sign a second time.
    assert client.session.get("brygga_fresh_authentication") is None


def test_the_api_takes_the_password_in_the_body(nurse_and_version) -> None:  # type: ignore[no-untyped-def]
    from brygga.accounts.models import ApiToken

    nurse, version = nurse_and_version
    _token, raw = ApiToken.issue(nurse.membership, "test")  # type: ignore[arg-type]
    url = f"/api/v1/documents/versions/{version.pk}/signatures"
    client = Client()
    refused = client.post(url, {}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert refused.status_code == 403 and refused.json()["problems"][0]["rule"] == "DOK-SIG-9"
    signed = client.post(
        url, {"password": PASSWORD}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert signed.status_code == 201 and Signature.objects.count() == 1


def test_without_a_personal_hsa_id_the_certificate_carries_the_units(nurse_and_version) -> None:  # type: ignore[no-untyped-def]
    from brygga.documents.signed import verify_version

    nurse, version = nurse_and_version
    sign_version(nurse, version.pk, confirmation=confirm_with_password(nurse.user, PASSWORD))
    [check] = verify_version(nurse, version.pk)[1].signatures
    assert check.signer_identifier == unit(WARD).hsa_id and check.signer_unit == WARD
