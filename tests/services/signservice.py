"""A signing service speaking the Swedish eID signservice protocol (Sweden Connect's DSS extension, as Inera
Underskriftstjänsten does), served over HTTP on 127.0.0.1 for the tests, with its own CA and that CA's OCSP
responder (RFC 6960 over HTTP, the responder the issued certificates name).

``POST /sign`` takes the browser's form (``Binding``, ``RelayState``, ``EidSignRequest``) as the service does:
it verifies the request's XML signature with the requester's certificate and checks the profile, the
audience, the validity conditions and that ``RelayState`` is the request id; it "authenticates" the user as
``user_name`` (the HSA-id is the one the request asks for), issues a one-time signing certificate with the
name and HSA-id, adds the signing-certificate attribute to the signed attributes, signs them, and answers with
a page whose form carries the XML-signed ``dss:SignResponse`` to brygga's return URL. ``mode`` makes it
misbehave: ``error`` (a service error), ``unsigned``, ``tampered`` (changed after signing), ``foreign`` (signed
with another key), ``other_request`` (answers another request id), ``other_digest`` (signs another digest).
The XML is built and checked here with lxml and signxml directly; nothing of brygga's protocol code is used."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod, XMLSigner, XMLVerifier
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

DSS = "urn:oasis:names:tc:dss:1.0:core:schema"
CSIG = "http://id.elegnamnden.se/csig/1.1/dss-ext/ns"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"dss": DSS, "csig": CSIG, "saml": SAML, "ds": DS}
PROFILE = "http://id.elegnamnden.se/csig/1.1/dss-ext/profile"
ENTITY_ID = "https://sign.test.brygga.invalid/ss"
HSA_ATTRIBUTE = "http://sambi.se/attributes/1/employeeHsaId"


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _self_signed(name: str, ca: bool, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, name), x509.NameAttribute(NameOID.COUNTRY_NAME, "SE")]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=5 * 365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
    return builder.sign(key, hashes.SHA256())


@dataclass
class Keys:
    """brygga's request-signing key and certificate (what BRYGGA_SIGNSERVICE_KEY/_CERT point to)."""

    key: Path
    cert: Path


def requester_keys(folder: Path) -> Keys:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _self_signed("brygga underskriftsbegäran (test)", False, key)
    (folder / "requester.key").write_bytes(_pem_key(key))
    (folder / "requester.pem").write_bytes(_pem(cert))
    return Keys(folder / "requester.key", folder / "requester.pem")


class SignService:
    def __init__(self, folder: Path, requester_cert: Path) -> None:
        self.requester_cert = requester_cert.read_bytes()
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_cert = _self_signed("Test SITHS e-id Function CA", True, self.ca_key)
        self.service_key = ec.generate_private_key(ec.SECP256R1())
        self.service_cert = _self_signed("Test underskriftstjänst", False, self.service_key)
        self.ca_pem = folder / "signservice-ca.pem"
        self.ca_pem.write_bytes(_pem(self.ca_cert))
        self.service_pem = folder / "signservice.pem"
        self.service_pem.write_bytes(_pem(self.service_cert))
        self.user_name = "Test Testsson"
        self.return_url = ""
        self.mode = "ok"
        self.requests: list[etree._Element] = []
        self.issued: list[x509.Certificate] = []
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.sign_url = f"{self.url}/sign"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- HTTP -----------------------------------------------------------------------------------------------

    def _app(self, environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        if request.path == "/ocsp" and request.method == "POST":
            response = Response(self._ocsp(request.get_data()), content_type="application/ocsp-response")
        elif request.path == "/sign" and request.method == "POST":
            try:
                response = Response(self._sign(request.form), content_type="text/html; charset=utf-8")
            except ValueError as exc:
                response = Response(f"refused: {exc}", status=400, content_type="text/plain")
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)

    def _ocsp(self, data: bytes) -> bytes:
        req = ocsp.load_der_ocsp_request(data)
        cert = next(c for c in self.issued if c.serial_number == req.serial_number)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        response = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=self.ca_cert,
                algorithm=hashes.SHA256(),
                cert_status=ocsp.OCSPCertStatus.GOOD,
                this_update=now - dt.timedelta(minutes=1),
                next_update=now + dt.timedelta(days=1),
                revocation_time=None,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.ca_cert)
            .sign(self.ca_key, hashes.SHA256())
        )
        return response.public_bytes(serialization.Encoding.DER)

    # --- the protocol ---------------------------------------------------------------------------------------

    def _sign(self, form) -> str:  # type: ignore[no-untyped-def]
        raw = base64.b64decode(form["EidSignRequest"])
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        verified = XMLVerifier().verify(etree.fromstring(raw, parser), x509_cert=self.requester_cert.decode())
        root: Any = verified.signed_xml  # type: ignore[union-attr]
        if root.tag != f"{{{DSS}}}SignRequest" or root.get("Profile") != PROFILE:
            raise ValueError("not a DSS-ext SignRequest")
        request_id = root.get("RequestID")
        if form.get("RelayState") != request_id:
            raise ValueError("RelayState is not the request id")
        ext: Any = root.find("dss:OptionalInputs/csig:SignRequestExtension", NS)
        if ext.findtext("csig:SignService", namespaces=NS) != ENTITY_ID:
            raise ValueError("request for another service")
        conditions = ext.find("saml:Conditions", NS)
        not_after = dt.datetime.fromisoformat(conditions.get("NotOnOrAfter").replace("Z", "+00:00"))
        if dt.datetime.now(dt.UTC) >= not_after:
            raise ValueError("request expired")
        if (
            ext.findtext("saml:Conditions/saml:AudienceRestriction/saml:Audience", namespaces=NS)
            != self.sign_url
        ):
            raise ValueError("wrong audience")
        self.requests.append(root)
        hsa_id = ext.findtext(
            f"csig:Signer/saml:Attribute[@Name='{HSA_ATTRIBUTE}']/saml:AttributeValue", namespaces=NS
        )
        task = root.find("dss:InputDocuments/dss:Other/csig:SignTasks/csig:SignTaskData", NS)
        tbs = base64.b64decode(task.findtext("csig:ToBeSignedBytes", namespaces=NS))
        response = self._response(raw, request_id, task.get("SignTaskId"), tbs, hsa_id or "")
        fields = {
            "Binding": "POST/XML/1.0",
            "RelayState": request_id,
            "EidSignResponse": base64.b64encode(response).decode(),
        }
        inputs = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items()
        )
        return f'<html><body><form method="post" action="{html.escape(self.return_url)}">{inputs}<button>OK</button></form></body></html>'

    def _issue(self, hsa_id: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, self.user_name),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, hsa_id or "SE0000000000-0000"),
                x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
            )
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier(f"{self.url}/ocsp"),
                        )
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False
            )
            .sign(self.ca_key, hashes.SHA256())
        )
        self.issued.append(cert)
        return key, cert

    def _response(self, raw_request: bytes, request_id: str, task_id: str, tbs: bytes, hsa_id: str) -> bytes:
        key, cert = self._issue(hsa_id)
        attributes = list(cms.CMSAttributes.load(tbs))
        if self.mode == "other_digest":
            attributes = [
                a
                if a["type"].native != "message_digest"
                else cms.CMSAttribute(
                    {"type": "message_digest", "values": [hashlib.sha256(b"other").digest()]}
                )
                for a in attributes
            ]
        cert_der = cert.public_bytes(serialization.Encoding.DER)
        attributes.append(
            cms.CMSAttribute(
                {
                    "type": "signing_certificate_v2",
                    "values": [
                        tsp.SigningCertificateV2(
                            {"certs": [{"cert_hash": hashlib.sha256(cert_der).digest()}]}
                        )
                    ],
                }
            )
        )
        signed_attributes = cms.CMSAttributes(attributes).dump(force=True)
        signature = key.sign(signed_attributes, ec.ECDSA(hashes.SHA256()))
        now = dt.datetime.now(dt.UTC)
        root = etree.Element(f"{{{DSS}}}SignResponse", nsmap={"dss": DSS}, Profile=PROFILE)
        root.set("RequestID", "another-request" if self.mode == "other_request" else request_id)
        result = etree.SubElement(root, f"{{{DSS}}}Result")
        success = "urn:oasis:names:tc:dss:1.0:resultmajor:Success"
        error = "urn:oasis:names:tc:dss:1.0:resultmajor:RequesterError"
        etree.SubElement(result, f"{{{DSS}}}ResultMajor").text = error if self.mode == "error" else success
        if self.mode == "error":
            etree.SubElement(
                result, f"{{{DSS}}}ResultMinor"
            ).text = "http://id.elegnamnden.se/sig-status/1.0/user-cancel"
            etree.SubElement(result, f"{{{DSS}}}ResultMessage").text = "Användaren avbröt underskriften"
        outputs = etree.SubElement(root, f"{{{DSS}}}OptionalOutputs")
        ext = etree.SubElement(
            outputs, f"{{{CSIG}}}SignResponseExtension", nsmap={"csig": CSIG}, Version="1.1"
        )
        etree.SubElement(ext, f"{{{CSIG}}}ResponseTime").text = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        etree.SubElement(ext, f"{{{CSIG}}}Request").text = base64.b64encode(raw_request).decode()
        chain = etree.SubElement(ext, f"{{{CSIG}}}SignatureCertificateChain")
        for c in (cert, self.ca_cert):
            etree.SubElement(chain, f"{{{CSIG}}}X509Certificate").text = base64.b64encode(
                c.public_bytes(serialization.Encoding.DER)
            ).decode()
        if self.mode != "unsigned":
            etree.SubElement(outputs, f"{{{DS}}}Signature", nsmap={"ds": DS}, Id="placeholder")
        other = etree.SubElement(etree.SubElement(root, f"{{{DSS}}}SignatureObject"), f"{{{DSS}}}Other")
        tasks = etree.SubElement(other, f"{{{CSIG}}}SignTasks", nsmap={"csig": CSIG})
        task = etree.SubElement(tasks, f"{{{CSIG}}}SignTaskData", SignTaskId=task_id, SigType="PDF")
        etree.SubElement(task, f"{{{CSIG}}}ToBeSignedBytes").text = base64.b64encode(
            signed_attributes
        ).decode()
        etree.SubElement(
            task, f"{{{CSIG}}}Base64Signature", Type="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
        ).text = base64.b64encode(signature).decode()
        if self.mode == "unsigned":
            return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        signing_key, signing_cert = self.service_key, self.service_cert
        if self.mode == "foreign":
            signing_key = ec.generate_private_key(ec.SECP256R1())
            signing_cert = _self_signed("Någon annan", False, signing_key)
        signed = XMLSigner(
            signature_algorithm=SignatureMethod.ECDSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
        ).sign(root, key=_pem_key(signing_key), cert=_pem(signing_cert).decode())
        data = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
        if self.mode == "tampered":
            data = re.sub(rb"Test Testsson", b"Test Tamper", data) if b"Test Testsson" in data else data
            data = data.replace(b'SigType="PDF"', b'SigType="XML"')
        return data
