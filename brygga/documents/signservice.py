"""The Swedish eID signservice protocol (Sweden Connect's DSS extension, "ELN-0609", which Inera
Underskriftstjänsten implements): the messages and the PDF steps around them (ADR 0408).

1. ``prepare_pdf``: pyHanko's interrupted signing reserves the signature field and its /Contents in an
   incremental update and hashes the /ByteRange; the CMS signed attributes (content type, message digest) are
   the ``ToBeSignedBytes`` of one ``SignTaskData``.
2. ``build_request``: a ``dss:SignRequest`` with the ``csig:SignRequestExtension`` (request time, validity
   conditions, the signer's attributes, the IdP, requester and service, the certificate attributes, the sign
   message), XML-signed (enveloped, in ``OptionalInputs``) with brygga's requester key.
3. The browser posts it (``EidSignRequest``, base64) to the service; the user authenticates there; the service
   posts a ``dss:SignResponse`` back to brygga's return URL.
4. ``parse_response``: the XML signature must verify against the configured service certificate and cover the
   whole response; the response must answer this request (``RequestID``, the echoed request), be in time and
   say success; out come the (service-updated) signed attributes, the signature value and the certificate
   chain.
5. ``complete_pdf``: the returned signed attributes must still carry our message digest and content type (the
   service may only add the signing-certificate attribute naming the certificate it issued); the signature
   must verify with that certificate; then the CMS is filled in and the signature is finished as PAdES B-LTA
   like a local one (signature time-stamp, DSS with revocation data, document time-stamp).
Anything wrong raises ``SignServiceRefused``: nothing is signed."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree

log = logging.getLogger(__name__)

DSS = "urn:oasis:names:tc:dss:1.0:core:schema"
CSIG = "http://id.elegnamnden.se/csig/1.1/dss-ext/ns"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
PROFILE = "http://id.elegnamnden.se/csig/1.1/dss-ext/profile"
SUCCESS = "urn:oasis:names:tc:dss:1.0:resultmajor:Success"
ENTITY = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
# SAML attribute names of the Swedish eID framework / Inera: the person's HSA-id, display name.
HSA_ID_ATTRIBUTE = "http://sambi.se/attributes/1/employeeHsaId"
DISPLAY_NAME_ATTRIBUTE = "urn:oid:2.16.840.1.113730.3.1.241"
LOA = "http://id.elegnamnden.se/loa/1.0/loa3"
NS = {"dss": DSS, "csig": CSIG, "saml": SAML, "ds": DS}
# Bytes reserved in /Contents for the CMS (hex, so twice the DER): the signature, a chain of a few
# certificates and the signature time-stamp token fit with room to spare.
CMS_RESERVED = 32768
# The service may add only these to the signed attributes it was given (it names the certificate it issued).
ADDED_BY_SERVICE = {"signing_certificate_v2", "signing_certificate"}
_DER = Encoding.DER


class SignServiceRefused(Exception):
    """The signing service's answer cannot be used (or it said no): the message is for the user."""


@dataclass(frozen=True)
class ServiceConfig:
    url: str
    service_entity_id: str
    requester_entity_id: str
    idp_entity_id: str
    requester_key: bytes  # PEM
    requester_cert: bytes  # PEM
    service_cert: bytes  # PEM: the certificate the service signs its responses with
    lifetime: dt.timedelta

    @classmethod
    def from_settings(cls) -> ServiceConfig:
        missing = [
            name
            for name in (
                "BRYGGA_SIGNSERVICE_URL",
                "BRYGGA_SIGNSERVICE_ENTITY_ID",
                "BRYGGA_SIGNSERVICE_REQUESTER_ID",
                "BRYGGA_SIGNSERVICE_KEY",
                "BRYGGA_SIGNSERVICE_CERT",
                "BRYGGA_SIGNSERVICE_SERVICE_CERT",
            )
            if not getattr(settings, name, "")
        ]
        if missing:
            raise SignServiceRefused(
                _("Underskriftstjänsten är inte konfigurerad (%(names)s).") % {"names": ", ".join(missing)}
            )
        return cls(
            url=settings.BRYGGA_SIGNSERVICE_URL,
            service_entity_id=settings.BRYGGA_SIGNSERVICE_ENTITY_ID,
            requester_entity_id=settings.BRYGGA_SIGNSERVICE_REQUESTER_ID,
            idp_entity_id=settings.BRYGGA_SIGNSERVICE_IDP,
            requester_key=Path(settings.BRYGGA_SIGNSERVICE_KEY).read_bytes(),
            requester_cert=Path(settings.BRYGGA_SIGNSERVICE_CERT).read_bytes(),
            service_cert=Path(settings.BRYGGA_SIGNSERVICE_SERVICE_CERT).read_bytes(),
            lifetime=dt.timedelta(seconds=settings.BRYGGA_SIGNSERVICE_REQUEST_SECONDS),
        )


@dataclass(frozen=True)
class Prepared:
    pdf: bytes  # the document with the signature dictionary and the reserved /Contents
    digest: bytes
    region_start: int
    region_end: int
    signed_attributes: bytes  # DER of the SET OF attributes: the ToBeSignedBytes


@dataclass(frozen=True)
class ServiceResult:
    signed_attributes: bytes
    signature: bytes
    chain: list[x509.Certificate]


def prepare_pdf(pdf: bytes, field_name: str, reason: str, name: str) -> Prepared:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location="brygga",
        name=name,
    )
    placeholder = signers.ExternalSigner(signing_cert=None, cert_registry=None, signature_value=256)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    pdf_signer = signers.PdfSigner(meta, signer=placeholder)
    digest, _tbs, output = asyncio.run(
        pdf_signer.async_digest_doc_for_signing(writer, bytes_reserved=CMS_RESERVED)
    )
    attributes = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [digest.document_digest]}),
        ]
    )
    return Prepared(
        pdf=output.getvalue(),  # type: ignore[attr-defined]
        digest=digest.document_digest,
        region_start=digest.reserved_region_start,
        region_end=digest.reserved_region_end,
        signed_attributes=attributes.dump(),
    )


def _xml_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))


def _el(parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", **attrs)
    if text is not None:
        element.text = text
    return element


def _signing_method(key: bytes) -> str:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from signxml import SignatureMethod

    loaded = load_pem_private_key(key, password=None)
    if isinstance(loaded, ec.EllipticCurvePrivateKey):
        return str(SignatureMethod.ECDSA_SHA256.value)
    return RSA_SHA256


def build_request(
    config: ServiceConfig,
    prepared: Prepared,
    *,
    request_id: str,
    sign_task_id: str,
    signer_name: str,
    signer_hsa_id: str,
    sign_message: str,
    now: dt.datetime,
) -> bytes:
    """The signed ``dss:SignRequest`` (UTF-8 XML) for one PDF signature."""
    from signxml import DigestAlgorithm, XMLSigner

    root = etree.Element(f"{{{DSS}}}SignRequest", nsmap={"dss": DSS}, Profile=PROFILE, RequestID=request_id)
    inputs = _el(root, DSS, "OptionalInputs")
    ext = etree.SubElement(
        inputs, f"{{{CSIG}}}SignRequestExtension", nsmap={"csig": CSIG, "saml": SAML}, Version="1.1"
    )
    _el(ext, CSIG, "RequestTime", _xml_time(now))
    conditions = _el(
        ext,
        SAML,
        "Conditions",
        NotBefore=_xml_time(now - dt.timedelta(minutes=1)),
        NotOnOrAfter=_xml_time(now + config.lifetime),
    )
    audience = _el(conditions, SAML, "AudienceRestriction")
    _el(audience, SAML, "Audience", config.url)
    signer = _el(ext, CSIG, "Signer")
    if signer_hsa_id:
        attribute = _el(signer, SAML, "Attribute", Name=HSA_ID_ATTRIBUTE)
        _el(attribute, SAML, "AttributeValue", signer_hsa_id)
    if config.idp_entity_id:
        _el(ext, CSIG, "IdentityProvider", config.idp_entity_id, Format=ENTITY)
    _el(ext, CSIG, "SignRequester", config.requester_entity_id, Format=ENTITY)
    _el(ext, CSIG, "SignService", config.service_entity_id, Format=ENTITY)
    _el(ext, CSIG, "RequestedSignatureAlgorithm", ECDSA_SHA256)
    props = _el(ext, CSIG, "CertRequestProperties", CertType="PKC")
    _el(props, SAML, "AuthnContextClassRef", LOA)
    requested = _el(props, CSIG, "RequestedCertAttributes")
    for oid, friendly, saml_name in (
        ("2.5.4.3", "commonName", DISPLAY_NAME_ATTRIBUTE),
        ("2.5.4.5", "serialNumber", HSA_ID_ATTRIBUTE),
    ):
        cert_attribute = _el(
            requested,
            CSIG,
            "RequestedCertAttribute",
            CertAttributeRef=oid,
            FriendlyName=friendly,
            Required="true",
        )
        _el(cert_attribute, CSIG, "SamlAttributeName", saml_name)
    message = _el(ext, CSIG, "SignMessage", MustShow="true", MimeType="text")
    _el(message, CSIG, "Message", base64.b64encode(sign_message.encode()).decode())
    # Where the enveloped signature goes (signxml replaces the placeholder).
    etree.SubElement(inputs, f"{{{DS}}}Signature", nsmap={"ds": DS}, Id="placeholder")
    documents = _el(root, DSS, "InputDocuments")
    other = _el(documents, DSS, "Other")
    tasks = etree.SubElement(other, f"{{{CSIG}}}SignTasks", nsmap={"csig": CSIG})
    task = _el(tasks, CSIG, "SignTaskData", SignTaskId=sign_task_id, SigType="PDF", AdESType="BES")
    _el(task, CSIG, "ToBeSignedBytes", base64.b64encode(prepared.signed_attributes).decode())
    signed = XMLSigner(
        signature_algorithm=_signing_method(config.requester_key),
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    ).sign(root, key=config.requester_key, cert=config.requester_cert.decode())
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def _safe_parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=False)
    try:
        return etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise SignServiceRefused(_("Svaret från underskriftstjänsten kan inte läsas.")) from exc


def verify_signed_xml(data: bytes, cert_pem: bytes) -> etree._Element:
    """The element the XML signature covers, verified against ``cert_pem``; only the whole document counts
    (an enveloped signature with ``URI=""``), so nothing outside the signature is read."""
    from signxml import InvalidInput, InvalidSignature, XMLVerifier

    root = _safe_parse(data)
    try:
        result = XMLVerifier().verify(root, x509_cert=cert_pem.decode())
    except (InvalidSignature, InvalidInput) as exc:
        log.info("Sign service message signature refused: %s", exc)
        raise SignServiceRefused(
            _("Svaret från underskriftstjänsten är inte undertecknat av tjänsten eller har ändrats.")
        ) from exc
    if isinstance(result, list):  # pragma: no cover — expect_references=1 gives one result
        raise SignServiceRefused(_("Svaret från underskriftstjänsten har fler än en underskrift."))
    signed = result.signed_xml
    references = root.findall(".//ds:Signature/ds:SignedInfo/ds:Reference", NS)
    whole = len(references) == 1 and references[0].get("URI") == ""
    if signed is None or signed.tag != root.tag or not whole:
        raise SignServiceRefused(_("Svaret från underskriftstjänsten är inte undertecknat i sin helhet."))
    return signed


def parse_response(
    config: ServiceConfig,
    data: bytes,
    *,
    request_id: str,
    request_xml: bytes,
    sign_task_id: str,
    now: dt.datetime,
) -> ServiceResult:
    root = verify_signed_xml(data, config.service_cert)
    if root.tag != f"{{{DSS}}}SignResponse":
        raise SignServiceRefused(_("Svaret från underskriftstjänsten är inte ett SignResponse."))
    if root.get("RequestID") != request_id:
        raise SignServiceRefused(_("Svaret från underskriftstjänsten gäller en annan begäran."))
    major = root.findtext("dss:Result/dss:ResultMajor", namespaces=NS) or ""
    if major.strip() != SUCCESS:
        message = (root.findtext("dss:Result/dss:ResultMessage", namespaces=NS) or "").strip()
        log.info("Sign service answered %s: %s", major, message)
        raise SignServiceRefused(
            _("Underskriftstjänsten undertecknade inte: %(message)s")
            % {"message": message[:300] or _("ingen orsak angiven")}
        )
    ext = root.find("dss:OptionalOutputs/csig:SignResponseExtension", NS)
    if ext is None:
        raise SignServiceRefused(_("Svaret från underskriftstjänsten saknar SignResponseExtension."))
    echoed = (ext.findtext("csig:Request", namespaces=NS) or "").strip()
    if not echoed or base64.b64decode(echoed) != request_xml:
        raise SignServiceRefused(_("Svaret från underskriftstjänsten gäller en annan begäran."))
    response_time = ext.findtext("csig:ResponseTime", namespaces=NS)
    try:
        answered = _parse_time(response_time or "")
    except ValueError as exc:
        raise SignServiceRefused(_("Svaret från underskriftstjänsten saknar svarstid.")) from exc
    if abs(answered - now) > config.lifetime:
        raise SignServiceRefused(_("Svaret från underskriftstjänsten är för gammalt."))
    chain = [
        x509.load_der_x509_certificate(base64.b64decode(el.text or ""))
        for el in ext.findall("csig:SignatureCertificateChain/csig:X509Certificate", NS)
    ]
    if not chain:
        raise SignServiceRefused(_("Svaret från underskriftstjänsten saknar signeringscertifikat."))
    task = None
    for candidate in root.findall("dss:SignatureObject/dss:Other/csig:SignTasks/csig:SignTaskData", NS):
        if candidate.get("SignTaskId") == sign_task_id:
            task = candidate
    if task is None:
        raise SignServiceRefused(_("Svaret från underskriftstjänsten saknar underskriften."))
    tbs = base64.b64decode(task.findtext("csig:ToBeSignedBytes", namespaces=NS) or "")
    signature = base64.b64decode(task.findtext("csig:Base64Signature", namespaces=NS) or "")
    if not tbs or not signature:
        raise SignServiceRefused(_("Svaret från underskriftstjänsten saknar underskriften."))
    return ServiceResult(signed_attributes=tbs, signature=signature, chain=chain)


def _attribute_map(der: bytes) -> dict[str, cms.CMSAttribute]:
    attributes = cms.CMSAttributes.load(der)
    return {a["type"].native: a for a in attributes}


def check_result(requested: bytes, result: ServiceResult) -> None:
    """The service signed what brygga asked it to: the same message digest and content type, at most the
    signing-certificate attribute added, and the signature verifies with the certificate it returned."""
    asked, got = _attribute_map(requested), _attribute_map(result.signed_attributes)
    for name, attribute in asked.items():
        if name not in got or got[name].dump() != attribute.dump():
            raise SignServiceRefused(_("Underskriftstjänsten undertecknade något annat än dokumentet."))
    if set(got) - set(asked) - ADDED_BY_SERVICE:
        raise SignServiceRefused(_("Underskriftstjänsten undertecknade något annat än dokumentet."))
    cert = result.chain[0]
    if "signing_certificate_v2" in got:
        ess = got["signing_certificate_v2"]["values"][0]["certs"][0]
        if ess["cert_hash"].native != hashlib.sha256(cert.public_bytes(_DER)).digest():
            raise SignServiceRefused(_("Underskriftstjänstens certifikat stämmer inte med underskriften."))
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(result.signature, result.signed_attributes, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(result.signature, result.signed_attributes, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise SignServiceRefused(_("Underskriftstjänstens certifikat har en okänd nyckeltyp."))
    except InvalidSignature as exc:
        raise SignServiceRefused(_("Underskriften från underskriftstjänsten är inte giltig.")) from exc


def complete_pdf(  # type: ignore[no-untyped-def]
    prepared: Prepared, result: ServiceResult, trust_roots, timestamper, lta_field_name: str
) -> bytes:
    """Fill the service's signature into the prepared PDF and finish it as PAdES B-LTA: the signature
    time-stamp in the CMS, then the DSS (certificates and OCSP of the signer's and the TSA's chains, fetched
    from the responders their certificates name; revocation required) and a document time-stamp."""
    from asn1crypto import algos
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
    from pyhanko.sign.signers.pdf_signer import PdfTBSDocument, PostSignInstructions
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    check_result(prepared.signed_attributes, result)
    certs = [asn1_x509.Certificate.load(c.public_bytes(_DER)) for c in result.chain]
    key = result.chain[0].public_key()
    mechanism = algos.SignedDigestAlgorithm(
        {"algorithm": "sha256_ecdsa" if isinstance(key, ec.EllipticCurvePublicKey) else "sha256_rsa"}
    )
    external = signers.ExternalSigner(
        signing_cert=certs[0],
        cert_registry=SimpleCertificateStore.from_certs(certs[1:]),
        signature_value=result.signature,
        signature_mechanism=mechanism,
    )
    context = ValidationContext(trust_roots=trust_roots, allow_fetching=True, revocation_mode="hard-fail")
    meta = signers.PdfSignatureMetadata(
        field_name="unused",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        embed_validation_info=True,
        use_pades_lta=True,
        timestamp_field_name=lta_field_name,
        validation_context=context,
    )

    async def finish() -> bytes:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

        signed_data = await external.async_sign_prescribed_attributes(
            "sha256", cms.CMSAttributes.load(result.signed_attributes), timestamper=timestamper
        )
        # The signer's and the TSA's validation paths and revocation data, as pyHanko's own signing flow
        # collects them before signing (here: after, once the service has named the certificate).
        session = signers.PdfSigner(meta, signer=external, timestamper=timestamper).init_signing_session(
            IncrementalPdfFileWriter(io.BytesIO(prepared.pdf))
        )
        validation_info = await session.perform_presign_validation()
        output = io.BytesIO(prepared.pdf)
        await PdfTBSDocument.async_finish_signing(
            output,
            PreparedByteRangeDigest(prepared.digest, prepared.region_start, prepared.region_end),
            signed_data,
            post_sign_instr=PostSignInstructions(
                validation_info=validation_info,  # type: ignore[arg-type]
                timestamper=timestamper,
                timestamp_md_algorithm="sha256",
                timestamp_field_name=lta_field_name,
            ),
            validation_context=context,
        )
        return output.getvalue()

    return asyncio.run(finish())
