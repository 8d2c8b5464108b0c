"""Web pages for attachments, signed documents, signature checks, extracts and the backup routine. Thin:
every decision is in the services; these parse the form, call, and render or redirect."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages as flash
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from brygga.access.services import log_list_access
from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.decorators import actor_required
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.core.paging import html_page
from brygga.documents import attachments as attachment_services
from brygga.documents import backup, delivery, extracts, reauth, signed
from brygga.documents.models import DocumentVersion, ExtractRequest, PaperRecord, SignServiceRequest
from brygga.documents.owners import owner_label
from brygga.documents.signing import get_signer, verify_pdf
from brygga.people.presenters import person_summary


def _actor(request: AuthedRequest) -> Actor:
    return request.actor


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _datetime(value: str | None) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _pdf_response(data: bytes | object, filename: str, inline: bool = False) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- a person's documents and attachments -------------------------------------------------------------------


def _person_page(
    request: AuthedRequest, person_id: int, errors: list[Problem] | None = None, status: int = 200
):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    data = request.POST if request.method == "POST" else request.GET
    owner_type, owner_id = data.get("owner_type") or "person", data.get("owner_id") or str(person_id)
    person, attachments = attachment_services.attachments_for(actor, person_id, what="dokument och bilagor")
    _person, documents = signed.person_documents(actor, person_id, opened=person)
    return render(
        request,
        "documents/person.html",
        {
            "person": person,
            "summary": person_summary(person),
            "attachments": attachments,
            "documents": documents,
            "paper_records": PaperRecord.objects.filter(person=person).select_related(
                "unit", "registered_by"
            ),
            "errors": errors or [],
            "form": request.POST if errors else {},
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "owner_type": owner_type,
            "owner_id": owner_id,
            "owner_label": owner_label(owner_type),
        },
        status=status,
    )


@actor_required(Perm.PERSON_READ)
def person_documents(request: AuthedRequest, person_id: int) -> HttpResponse:
    return _person_page(request, person_id)


@require_POST
@actor_required(Perm.MESSAGE_SEND)
def upload(request: AuthedRequest, person_id: int) -> HttpResponse:
    upload_file = request.FILES.get("file")
    if upload_file is None:
        return _person_page(
            request, person_id, [Problem("file", "DOK-BIL-1", _("Välj en fil att bifoga."))], status=400
        )
    owner_type = request.POST.get("owner_type") or "person"
    owner_id = request.POST.get("owner_id") or str(person_id)
    try:
        attachment_services.add_attachment(_actor(request), person_id, owner_type, owner_id, upload_file)
    except DomainError as exc:
        return _person_page(request, person_id, exc.problems, status=exc.status)
    target = reverse("documents:person", args=[person_id])
    if owner_type != "person":
        target += "?" + urlencode({"owner_type": owner_type, "owner_id": owner_id})
    return redirect(target)


@actor_required(Perm.PERSON_READ)
def download(request: AuthedRequest, attachment_id: int) -> HttpResponse:
    attachment = attachment_services.open_attachment(_actor(request), attachment_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["Cache-Control"] = "no-store"
    return response  # type: ignore[return-value]  # a streaming response


@require_POST
@actor_required(Perm.DOCUMENT_SIGN)
def create_document(request: AuthedRequest, person_id: int) -> HttpResponse:
    try:
        version = signed.create_document(
            _actor(request),
            person_id,
            request.POST.get("owner_type") or "person",
            request.POST.get("owner_id") or str(person_id),
            request.POST.get("title", ""),
            request.POST.get("body", ""),
        )
    except DomainError as exc:
        return _person_page(request, person_id, exc.problems, status=exc.status)
    return redirect("documents:document", document_id=version.document_id)


def _document_page(
    request: AuthedRequest, document_id: int, errors: list[Problem] | None = None, status: int = 200
):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    document = signed.open_document(actor, document_id)
    versions = []
    for version in document.versions.order_by("-number").prefetch_related("signatures"):
        versions.append((version, signed.check_version(version)))
    current = versions[0][0]
    return render(
        request,
        "documents/document.html",
        {
            "document": document,
            "summary": person_summary(document.person),
            "versions": versions,
            "current": current,
            "signed_by_me": current.signatures.filter(signer=actor.user).exists(),
            "fresh_auth": settings.BRYGGA_SIGNING_FRESH_AUTH,
            "password_signer": actor.user.has_usable_password(),
            "needs_totp": actor.user.has_totp or settings.BRYGGA_REQUIRE_TOTP,
            "reauth_url": settings.BRYGGA_SIGNING_REAUTH_URL,
            "signer_label": signed.signer_label(actor),
            "errors": errors or [],
        },
        status=status,
    )


@actor_required(Perm.PERSON_READ)
def document(request: AuthedRequest, document_id: int) -> HttpResponse:
    return _document_page(request, document_id)


@require_POST
@actor_required(Perm.DOCUMENT_SIGN)
def revise(request: AuthedRequest, document_id: int) -> HttpResponse:
    try:
        signed.revise_document(
            _actor(request), document_id, request.POST.get("title", ""), request.POST.get("body", "")
        )
    except DomainError as exc:
        return _document_page(request, document_id, exc.problems, status=exc.status)
    return redirect("documents:document", document_id=document_id)


@require_POST
@actor_required(Perm.DOCUMENT_SIGN)
def sign(request: AuthedRequest, version_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        confirmation = reauth.confirmation_from_session(request)
        if confirmation is None and request.POST.get("password"):
            confirmation = reauth.confirm_with_password(
                actor.user, request.POST.get("password", ""), request.POST.get("totp", ""), request
            )
        if get_signer().remote:
            form = signed.start_remote_signing(actor, version_id, confirmation=confirmation)
            response = render(request, "documents/signservice_post.html", {"form": form})
            # The page's form goes to the signing service: allow that one origin as a form target.
            response._csp_update = {"form-action": [_origin(form.url)]}  # type: ignore[attr-defined]
            return response
        signature = signed.sign_version(actor, version_id, confirmation=confirmation)
    except DomainError as exc:
        document_id = (
            DocumentVersion.objects.filter(pk=version_id).values_list("document_id", flat=True).first()
        )
        return _document_page(request, document_id or 0, exc.problems, status=exc.status)
    return redirect("documents:document", document_id=signature.version.document_id)


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@csrf_exempt  # the signing service's page posts here; the response is authenticated by its XML signature
@require_POST
def signservice_response(request: HttpRequest) -> HttpResponse:
    """The signing service's SignResponse, brought back by the browser (ADR 0408). It may arrive without
    brygga's session cookie (a cross-site POST): the pending request names the signer."""
    try:
        _pending, signature = signed.finish_remote_signing(
            request.POST.get("RelayState", ""), request.POST.get("EidSignResponse", "")
        )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        refused = SignServiceRequest.objects.filter(
            request_id=request.POST.get("RelayState", "")[:64]
        ).first()
        return render(
            request,
            "documents/signservice_refused.html",
            {"problems": exc.problems, "document_id": refused.version.document_id if refused else None},
            status=exc.status,
        )
    flash.success(request, _("Dokumentet är undertecknat."))
    return redirect("documents:document", document_id=signature.version.document_id)


@actor_required(Perm.PERSON_READ)
def version_pdf(request: AuthedRequest, version_id: int) -> HttpResponse:
    version = signed.open_version(_actor(request), version_id)
    with version.pdf.open("rb") as handle:
        data = handle.read()
    return _pdf_response(data, f"dokument-{version.document_id}-v{version.number}.pdf")


@actor_required()
def verify_upload(request: HttpRequest) -> HttpResponse:
    """Check the signatures of a PDF someone received (from brygga or elsewhere). Nothing is stored."""
    context: dict[str, object] = {}
    status = 200
    if request.method == "POST":
        upload_file = request.FILES.get("file")
        if upload_file is None:
            context["errors"] = [Problem("file", "DOK-SIG-6", _("Välj en PDF-fil att kontrollera."))]
            status = 400
        elif upload_file.size and upload_file.size > 50 * 1024 * 1024:
            context["errors"] = [Problem("file", "DOK-BIL-2", _("Filen är för stor."))]
            status = 400
        else:
            context["report"] = verify_pdf(upload_file.read())
            context["filename"] = upload_file.name
    return render(request, "documents/verify.html", context, status=status)


# --- extracts -----------------------------------------------------------------------------------------------


@actor_required(Perm.ACCESS_LOG_REVIEW)
def extract_requests(request: AuthedRequest) -> HttpResponse:
    actor = _actor(request)
    errors: list[Problem] = []
    status = 200
    if request.method == "POST":
        try:
            created = extracts.register_request(
                actor,
                request.POST.get("person", ""),
                request.POST.get("kind", ""),
                _date(request.POST.get("received_on")),
                request.POST.get("note", ""),
            )
        except DomainError as exc:
            errors, status = exc.problems, exc.status
        else:
            return redirect("documents:extract_request", request_id=created.pk)
    requests = extracts.scoped_requests(actor)
    # The open ones by their deadline, the nearest first; the delivered ones the latest first.
    open_requests = html_page(
        request,
        requests.filter(delivered_at__isnull=True).order_by(Coalesce("extended_to", "due_on"), "pk"),
        key="pagaende",
    )
    delivered = html_page(
        request,
        requests.filter(delivered_at__isnull=False).order_by("-delivered_at", "-pk"),
        key="levererade",
    )
    shown = [*open_requests, *delivered]
    log_list_access(actor, {r.person_id: r.person for r in shown}.values(), "utdragsbegäranden")
    today = timezone.localdate()
    return render(
        request,
        "documents/extract_requests.html",
        {
            "open": open_requests,
            "delivered": delivered,
            "today": today,
            "kinds": ExtractRequest.Kind.choices,
            "errors": errors,
            "form": request.POST if errors else {},
        },
        status=status,
    )


@actor_required(Perm.ACCESS_LOG_REVIEW)
def extract_request(request: AuthedRequest, request_id: int) -> HttpResponse:
    actor = _actor(request)
    errors: list[Problem] = []
    status = 200
    if request.method == "POST":
        try:
            extracts.extend_request(
                actor,
                request_id,
                _date(request.POST.get("extended_to")),
                request.POST.get("extension_reason", ""),
                _date(request.POST.get("extension_notified_on")),
            )
        except DomainError as exc:
            errors, status = exc.problems, exc.status
        else:
            return redirect("documents:extract_request", request_id=request_id)
    item = extracts.open_request(actor, request_id)
    return render(
        request,
        "documents/extract_request.html",
        {"item": item, "today": timezone.localdate(), "errors": errors},
        status=status,
    )


@require_POST
@actor_required(Perm.ACCESS_LOG_REVIEW)
def extract_pdf(request: AuthedRequest, request_id: int) -> HttpResponse:
    item, data = extracts.produce_extract(_actor(request), request_id)
    name = "loggutdrag" if item.kind == ExtractRequest.Kind.LOG else "registerutdrag"
    return _pdf_response(data, f"{name}-{item.pk}.pdf")


# --- the backup routine -------------------------------------------------------------------------------------


@actor_required(Perm.PERSON_READ)
def backups(request: AuthedRequest) -> HttpResponse:
    actor = _actor(request)
    records = list(PaperRecord.objects.filter(unit=actor.unit).select_related("person", "registered_by")[:50])
    log_list_access(
        actor, {r.person_id: r.person for r in records}.values(), "reservrutin:efterregistreringar"
    )
    return render(
        request,
        "documents/backups.html",
        {
            "snapshots": backup.unit_snapshots(actor)[:10],
            "passphrase": backup.unit_passphrase(actor.unit) if actor.unit else "",
            "delivery": delivery.delivery_status(actor.unit) if actor.unit else None,
            "stale_hours": settings.BRYGGA_BACKUP_STALE_HOURS,
            "paper_records": records,
        },
    )


DESTINATION_FIELDS = (
    "age_recipient",
    "sftp_host",
    "sftp_port",
    "sftp_user",
    "sftp_directory",
    "sftp_host_key",
    "email",
)


@actor_required(Perm.UNIT_ADMIN)
def backup_destination(request: AuthedRequest) -> HttpResponse:
    """The unit administrator registers where the unit's reserve copies go (ADR 0406): the unit's age key and
    an SFTP server, an e-mail address, or both. One form, one transaction; a refusal keeps what was typed."""
    actor = _actor(request)
    current = delivery.delivery_status(actor.unit) if actor.unit else None
    destination = current.destination if current else None
    errors: list[Problem] = []
    form: dict[str, object]
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in DESTINATION_FIELDS}
        try:
            delivery.register_destination(actor, **values)
        except DomainError as exc:
            errors = exc.problems
        else:
            flash.success(request, _("Mottagaren av reservkopior är sparad."))
            return redirect("documents:backup_destination")
        form = dict(values)
    elif destination is not None:
        form = {name: getattr(destination, name) for name in DESTINATION_FIELDS}
    else:
        form = {"sftp_port": 22, "sftp_directory": "."}
    return render(
        request,
        "documents/backup_destination.html",
        {
            "form": form,
            "errors": errors,
            "delivery": current,
            "stale_hours": settings.BRYGGA_BACKUP_STALE_HOURS,
        },
        status=400 if errors else 200,
    )


@require_POST
@actor_required(Perm.PERSON_READ)
def backup_now(request: AuthedRequest) -> HttpResponse:
    actor = _actor(request)
    snapshot = backup.produce_snapshot(actor.unit, actor)  # type: ignore[arg-type]
    return redirect("documents:backup_download", snapshot_id=snapshot.pk)


@actor_required(Perm.PERSON_READ)
def backup_download(request: AuthedRequest, snapshot_id: int) -> HttpResponse:
    snapshot = backup.open_snapshot(_actor(request), snapshot_id)
    with snapshot.file.open("rb") as handle:
        data = handle.read()
    stamp = timezone.localtime(snapshot.created_at).strftime("%Y%m%d-%H%M")
    return _pdf_response(data, f"reservutdrag-{snapshot.unit.hsa_id}-{stamp}.pdf")


@require_POST
@actor_required(Perm.MESSAGE_SEND)
def paper_record(request: AuthedRequest, person_id: int) -> HttpResponse:
    try:
        backup.register_paper_record(
            _actor(request),
            person_id,
            _datetime(request.POST.get("occurred_at")),
            request.POST.get("summary", ""),
            request.POST.get("snapshot") or None,
        )
    except DomainError as exc:
        return _person_page(request, person_id, exc.problems, status=exc.status)
    return redirect("documents:person", person_id=person_id)
