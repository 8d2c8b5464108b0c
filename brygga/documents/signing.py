"""PAdES signing and verification with a pluggable signer (ADR 0401).

``Signer`` is the interface. ``LocalSigner`` signs with a certificate authority the installation creates
under ``BRYGGA_SIGNING_CA_DIR`` (``manage.py create_signing_ca`` or on first use); like a signing service, it
issues a one-time certificate per signature naming the signer, their HSA-id and unit. ``IneraSigner`` is the
production adapter's interface for Inera Underskriftstjänsten (see its docstring); it is not implemented.

Every signature is an incremental update of the PDF, so several people can sign the same version and each
earlier signature stays verifiable. ``verify_pdf`` reports, per signature, who signed, when, and whether the
signature is intact, trusted and still covers the document (tampering is reported as invalid)."""

from __future__ import annotations

import datetime as dt
import io
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.utils.translation import gettext as _

from brygga.core.trust import extra_trust_roots

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignerIdentity:
    name: str
    identifier: str  # the person's HSA-id, else the unit's
    unit_name: str
    unit_hsa_id: str
    organisation: str


@dataclass
class SignatureCheck:
    field_name: str
    signer_name: str = ""
    signer_identifier: str = ""
    signer_unit: str = ""
    signed_at: dt.datetime | None = None
    intact: bool = False
    trusted: bool = False
    covers_document: bool = False
    valid: bool = False
    problem: str = ""
    # PAdES level: "B-B" (signature only), "B-T" (with a valid RFC 3161 signature time-stamp), "B-LT" (and the
    # certificates and revocation data needed to validate it later embedded in the document security store).
    timestamped_at: dt.datetime | None = None
    level: str = ""


@dataclass
class VerificationReport:
    signatures: list[SignatureCheck] = field(default_factory=list)
    problem: str = ""

    @property
    def valid(self) -> bool:
        return not self.problem and bool(self.signatures) and all(s.valid for s in self.signatures)


class SigningUnavailable(Exception):
    pass


class Signer(ABC):
    name: str
    remote = False  # True: signs through the browser round trip to a signing service

    @abstractmethod
    def sign(self, pdf: bytes, identity: SignerIdentity, field_name: str, reason: str) -> bytes:
        """Return the PDF with one more PAdES signature (an incremental update) by this identity."""

    @abstractmethod
    def trust_roots(self) -> list[asn1_x509.Certificate]:
        """The certificates a verifier trusts for signatures made by this signer."""


def _der(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _key_info(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> asn1_keys.PrivateKeyInfo:
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return asn1_keys.PrivateKeyInfo.load(der)


_KEY_USAGE_SIGN = dict(
    digital_signature=True,
    content_commitment=True,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


class LocalCertificateAuthority:
    """A CA kept as two files (ca.key with mode 0600, ca.pem). For demo and test installations only."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._loaded: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None = None

    @property
    def key_path(self) -> Path:
        return self.directory / "ca.key"

    @property
    def cert_path(self) -> Path:
        return self.directory / "ca.pem"

    def exists(self) -> bool:
        return self.key_path.exists() and self.cert_path.exists()

    def create(
        self, common_name: str = "brygga lokal underskrifts-CA (ej för produktion)"
    ) -> x509.Certificate:
        self.directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "brygga"),
                x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            ]
        )
        usage = {**_KEY_USAGE_SIGN, "key_cert_sign": True, "crl_sign": True, "content_commitment": False}
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=20 * 365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(**usage), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        self.key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.key_path.chmod(0o600)
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._loaded = (key, cert)
        log.info("Created the local signing CA in %s", self.directory)
        return cert

    def load(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        if self._loaded is None:
            if not self.exists():
                self.create()
            else:
                key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
                cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
                assert isinstance(key, ec.EllipticCurvePrivateKey)
                self._loaded = (key, cert)
        return self._loaded  # type: ignore[return-value]

    def certificate(self) -> x509.Certificate:
        return self.load()[1]

    def ocsp_response(self, cert: x509.Certificate) -> bytes:
        """The CA's own OCSP answer (RFC 6960, DER) that ``cert``, which it issued, is good: the revocation
        data a local signature embeds. A production CA answers from its OCSP responder instead (AIA)."""
        ca_key, ca_cert = self.load()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        response = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=ca_cert,
                algorithm=hashes.SHA256(),
                cert_status=ocsp.OCSPCertStatus.GOOD,
                this_update=now - dt.timedelta(minutes=1),
                next_update=now + dt.timedelta(days=7),
                revocation_time=None,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, ca_cert)
            .sign(ca_key, hashes.SHA256())
        )
        return response.public_bytes(serialization.Encoding.DER)

    def time_stamping_unit(self) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        """The local time-stamping certificate (tsa.key, tsa.pem), for installations without
        ``BRYGGA_TSA_URL`` (demo and development): real RFC 3161 tokens, trusted only here."""
        key_path, cert_path = self.directory / "tsa.key", self.directory / "tsa.pem"
        ca_key, ca_cert = self.load()
        if key_path.exists() and cert_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise SigningUnavailable("tsa.key is not an RSA key")
            return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's local TSA is RSA
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "brygga lokal tidsstämpel")]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=10 * 365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(**{**_KEY_USAGE_SIGN, "content_commitment": False}), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_path.chmod(0o600)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return key, cert

    def issue(self, identity: SignerIdentity) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """A one-time signing certificate for one signature, as a signing service issues them."""
        ca_key, ca_cert = self.load()
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, identity.name[:64]),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, identity.identifier[:64]),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, identity.unit_name[:64]),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, (identity.organisation or "brygga")[:64]),
                x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=10 * 365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(**_KEY_USAGE_SIGN), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        return key, cert


def _timestamper(ca: LocalCertificateAuthority | None):  # type: ignore[no-untyped-def]
    """The RFC 3161 client for ``BRYGGA_TSA_URL``, else (local CA only) the local time-stamping unit."""
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    if settings.BRYGGA_TSA_URL:
        return HTTPTimeStamper(settings.BRYGGA_TSA_URL, timeout=settings.BRYGGA_TSA_TIMEOUT), []
    if ca is None:
        raise SigningUnavailable(_("Ingen tidsstämpeltjänst är konfigurerad (BRYGGA_TSA_URL)."))
    key, cert = ca.time_stamping_unit()
    stamper = DummyTimeStamper(
        tsa_cert=_der(cert),
        tsa_key=_key_info(key),
        certs_to_embed=SimpleCertificateStore.from_certs([_der(ca.certificate())]),
    )
    return stamper, [ca.ocsp_response(cert)]


def timestamper_for_installation():  # type: ignore[no-untyped-def]
    """The time-stamping client signatures use: ``BRYGGA_TSA_URL``, else (local signer only) the local
    unit."""
    local = settings.BRYGGA_SIGNER == "local"
    return _timestamper(LocalCertificateAuthority(settings.BRYGGA_SIGNING_CA_DIR) if local else None)


def pades_sign(  # type: ignore[no-untyped-def]
    pdf: bytes, signer, field_name: str, reason: str, trust_roots, ocsps: list[bytes], timestamper
) -> bytes:
    """Sign as PAdES B-LTA: the CMS signature, an RFC 3161 signature time-stamp, in the document security
    store the certificates and revocation data (OCSP) of the signer's and the time-stamping authority's
    chains, so the signature can be validated after the certificates expire, and after that a document
    (archive) time-stamp over all of it, which a later renewal can extend. Revocation data not given in
    ``ocsps`` is fetched from the responders the certificates name (AIA). Anything missing refuses: no
    signature is made without the time-stamp and revocation data it claims."""
    from asn1crypto import ocsp as asn1_ocsp
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(
        trust_roots=trust_roots,
        ocsps=[asn1_ocsp.OCSPResponse.load(o) for o in ocsps],
        allow_fetching=True,
        revocation_mode="hard-fail",
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location="brygga",
        embed_validation_info=True,
        use_pades_lta=True,
        timestamp_field_name=f"{field_name}Arkiv",
        validation_context=context,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    try:
        return signers.PdfSigner(meta, signer=signer, timestamper=timestamper).sign_pdf(writer).getvalue()
    except SigningUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 — TSA or OCSP unreachable, revoked or untrusted: never sign anyway
        log.warning("PAdES signing refused: %s: %s", exc.__class__.__name__, exc)
        raise SigningUnavailable(
            _("Tidsstämpel eller spärrkontroll gick inte att hämta, så dokumentet undertecknades inte.")
        ) from exc


def _pades_sign(pdf: bytes, key, cert, ca: LocalCertificateAuthority, field_name: str, reason: str) -> bytes:  # type: ignore[no-untyped-def]
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(
        signing_cert=_der(cert),
        signing_key=_key_info(key),
        cert_registry=SimpleCertificateStore.from_certs([_der(ca.certificate())]),
    )
    timestamper, tsa_ocsps = _timestamper(ca)
    roots = [_der(ca.certificate()), *extra_trust_roots()]
    return pades_sign(
        pdf, signer, field_name, reason, roots, [ca.ocsp_response(cert), *tsa_ocsps], timestamper
    )


class LocalSigner(Signer):
    name = "local"

    def __init__(self, directory: Path | None = None) -> None:
        self.ca = LocalCertificateAuthority(directory or settings.BRYGGA_SIGNING_CA_DIR)

    def sign(self, pdf: bytes, identity: SignerIdentity, field_name: str, reason: str) -> bytes:
        key, cert = self.ca.issue(identity)
        return _pades_sign(pdf, key, cert, self.ca, field_name, reason)

    def trust_roots(self) -> list[asn1_x509.Certificate]:
        return [_der(self.ca.certificate())]


class IneraSigner(Signer):
    """Inera Underskriftstjänsten, or any service speaking the Swedish eID signservice protocol (Sweden
    Connect's DSS extension): the signature needs the user's browser to carry the request to the service
    and the response back, so it is made by ``signed.start_remote_signing`` / ``finish_remote_signing`` with
    the messages in ``brygga.documents.signservice`` (ADR 0408), never in one call. The service's CA is
    trusted through ``BRYGGA_SIGNING_TRUST_ROOTS``."""

    name = "inera"
    remote = True

    def sign(self, pdf: bytes, identity: SignerIdentity, field_name: str, reason: str) -> bytes:
        raise SigningUnavailable(
            _("Underskriftstjänsten nås genom webbläsaren: underteckna på dokumentets sida i brygga.")
        )

    def trust_roots(self) -> list[asn1_x509.Certificate]:
        return []


def get_signer() -> Signer:
    if settings.BRYGGA_SIGNER == "inera":
        return IneraSigner()
    return LocalSigner()


def installation_trust_roots() -> list[asn1_x509.Certificate]:
    """What this installation trusts: its signer's roots, the extra roots, and the local CA if it exists."""
    roots = list(get_signer().trust_roots()) + extra_trust_roots()
    local = LocalCertificateAuthority(settings.BRYGGA_SIGNING_CA_DIR)
    if settings.BRYGGA_SIGNER != "local" and local.exists():
        roots.extend(LocalSigner().trust_roots())
    return roots


def _attribute(name: asn1_x509.Name, key: str) -> str:
    value = name.native.get(key, "")
    return value if isinstance(value, str) else ""


def verify_pdf(data: bytes) -> VerificationReport:
    """Verify every signature in the PDF. Never raises for a broken or tampered file: it reports it."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    report = VerificationReport()
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_regular_signatures)
        document_stamps = list(reader.embedded_timestamp_signatures)
    except Exception as exc:  # noqa: BLE001 — any parse failure of an untrusted file is "invalid"
        report.problem = _("Filen kan inte läsas som PDF: den är skadad eller har ändrats.")
        log.info("PDF verification failed to parse: %s", exc)
        return report
    if not embedded:
        report.problem = _("Dokumentet saknar underskrifter.")
        return report
    roots = installation_trust_roots()
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    allowed = {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING}
    for emb in embedded:
        check = SignatureCheck(field_name=emb.field_name)
        report.signatures.append(check)
        try:
            status = validate_pdf_signature(emb, context)
        except Exception as exc:  # noqa: BLE001 — a broken signature structure is "invalid"
            check.problem = _("Underskriften kan inte kontrolleras: dokumentet har ändrats.")
            log.info("Signature %s failed validation: %s", emb.field_name, exc)
            continue
        subject = status.signing_cert.subject
        check.signer_name = _attribute(subject, "common_name")
        check.signer_identifier = _attribute(subject, "serial_number")
        check.signer_unit = _attribute(subject, "organizational_unit_name")
        check.signed_at = emb.self_reported_timestamp
        check.intact = bool(status.intact and status.valid)
        check.trusted = bool(status.trusted)
        check.covers_document = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
            status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and status.modification_level in allowed
        )
        check.valid = bool(status.bottom_line and check.intact and check.trusted and check.covers_document)
        if not check.intact:
            check.problem = _("Dokumentet har ändrats efter underskriften.")
        elif not check.trusted:
            check.problem = _("Certifikatet är inte utfärdat av en betrodd utfärdare.")
        elif not check.covers_document:
            check.problem = _("Dokumentet har ändrats efter underskriften.")
        elif not check.valid:
            check.problem = _("Underskriften är inte giltig.")
        check.level, check.timestamped_at = _pades_level(emb, status, roots, document_stamps)
    return report


def dss_only_status(emb, roots):  # type: ignore[no-untyped-def]
    """Validate the signature and its time-stamp using only what the document itself carries: the
    certificates and revocation data in its document security store, no fetching, revocation required
    ("hard-fail"). This is how a recipient validates it years later: PAdES-LT."""
    from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_signature

    dss = DocumentSecurityStore.read_dss(emb.reader)
    context = dss.as_validation_context(
        {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "hard-fail"}
    )
    return validate_pdf_signature(emb, signer_validation_context=context, ts_validation_context=context)


def archive_stamp_valid(emb, stamps, roots) -> bool:  # type: ignore[no-untyped-def]
    """A document (archive) time-stamp added after the signature that is intact and trusted, validated with
    what the document security store holds (no fetching)."""
    from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_timestamp

    for stamp in stamps:
        if stamp.signed_revision <= emb.signed_revision:
            continue
        try:
            dss = DocumentSecurityStore.read_dss(stamp.reader)
            context = dss.as_validation_context(
                {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "hard-fail"}
            )
            status = validate_pdf_timestamp(stamp, validation_context=context)
        except Exception as exc:  # noqa: BLE001 — a broken time-stamp is not an archive time-stamp
            log.info("Document time-stamp %s does not validate: %s", stamp.field_name, exc)
            continue
        if status.intact and status.valid and status.trusted:
            return True
    return False


def _pades_level(emb, status, roots, stamps=()) -> tuple[str, dt.datetime | None]:  # type: ignore[no-untyped-def]
    """B-B, B-T (a trusted, intact signature time-stamp), B-LT (and it validates from the document security
    store alone, see ``dss_only_status``) or B-LTA (and a valid document time-stamp covers all of that)."""
    stamp = status.timestamp_validity
    if stamp is None or not (stamp.intact and stamp.valid and stamp.trusted):
        return "B-B", None
    try:
        offline = dss_only_status(emb, roots)
        long_term = bool(
            offline.bottom_line
            and offline.timestamp_validity is not None
            and offline.timestamp_validity.trusted
        )
    except Exception as exc:  # noqa: BLE001 — no DSS or missing revocation data: not long-term
        log.info("Signature %s is not PAdES-LT: %s", emb.field_name, exc)
        long_term = False
    if long_term and archive_stamp_valid(emb, stamps, roots):
        return "B-LTA", stamp.timestamp
    return ("B-LT" if long_term else "B-T"), stamp.timestamp
