"""A second validator for PAdES B-LT signatures that does not use pyHanko's validation: OpenSSL (from Debian,
``openssl cms -verify``, ``openssl ts -verify``, ``openssl ocsp``) checks the CMS signature over the signed
byte ranges, the RFC 3161 signature time-stamp and the embedded OCSP responses' signatures, and the
responses (read with asn1crypto) must cover the signer's and the time-stamping authority's certificates and say "good".

The signature containers are cut out of the PDF by hand (``/ByteRange`` and ``/Contents``); only reading the
document security store's streams (/DSS /OCSPs and /Certs, compressed) uses pyHanko's PDF parser."""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import cms
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509

BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


@dataclass
class SignatureFinding:
    signer_serial: int
    signer_subject: str
    cms_verified: str
    timestamp_verified: str
    tsa_serial: int


@dataclass
class DocumentTimestampFinding:
    """A document (archive) time-stamp, PAdES B-LTA: an RFC 3161 token over its own byte ranges, which
    include the signatures and the DSS before it."""

    offset: int  # where its byte range ends: later than the signatures and the DSS it covers
    verified: str


@dataclass
class Findings:
    signatures: list[SignatureFinding] = field(default_factory=list)
    document_timestamps: list[DocumentTimestampFinding] = field(default_factory=list)
    ocsp_good_serials: set[int] = field(default_factory=set)
    ocsp_openssl: list[str] = field(default_factory=list)


def _openssl(*args: str) -> str:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).strip()


def validate(pdf: bytes, folder: Path, signer_ca_pem: Path, tsa_ca_pem: Path) -> Findings:
    findings = Findings()
    for n, match in enumerate(BYTE_RANGE.finditer(pdf)):
        a, b, c, d = (int(x) for x in match.groups())
        signed = pdf[a : a + b] + pdf[c : c + d]
        contents = bytes.fromhex(pdf[a + b + 1 : c - 1].decode("ascii"))
        info = cms.ContentInfo.load(contents)  # the hex is padded with zeros after the DER
        der = info.dump()
        (folder / f"sig{n}.der").write_bytes(der)
        (folder / f"signed{n}.bin").write_bytes(signed)
        if info["content"]["encap_content_info"]["content_type"].native == "tst_info":
            # A document time-stamp: the token's message imprint is the hash of the signed byte ranges.
            findings.document_timestamps.append(
                DocumentTimestampFinding(
                    c + d,
                    _openssl(
                        "ts", "-verify", "-in", str(folder / f"sig{n}.der"), "-token_in",
                        "-data", str(folder / f"signed{n}.bin"), "-CAfile", str(tsa_ca_pem),
                    ),
                )
            )  # fmt: skip
            continue
        cms_result = _openssl(
            "cms", "-verify", "-binary", "-inform", "DER", "-in", str(folder / f"sig{n}.der"),
            "-content", str(folder / f"signed{n}.bin"), "-CAfile", str(signer_ca_pem),
            "-purpose", "any", "-out", "/dev/null",
        )  # fmt: skip
        signed_data = info["content"]
        signer_info = signed_data["signer_infos"][0]
        serial = signer_info["sid"].chosen["serial_number"].native
        cert = next(c.chosen for c in signed_data["certificates"] if c.chosen.serial_number == serial)
        token = next(
            attr["values"][0]
            for attr in signer_info["unsigned_attrs"]
            if attr["type"].native == "signature_time_stamp_token"
        )
        (folder / f"tst{n}.der").write_bytes(token.dump())
        (folder / f"sigvalue{n}.bin").write_bytes(signer_info["signature"].native)
        ts_result = _openssl(
            "ts", "-verify", "-in", str(folder / f"tst{n}.der"), "-token_in",
            "-data", str(folder / f"sigvalue{n}.bin"), "-CAfile", str(tsa_ca_pem),
        )  # fmt: skip
        tsa_serial = token["content"]["signer_infos"][0]["sid"].chosen["serial_number"].native
        findings.signatures.append(
            SignatureFinding(serial, cert.subject.human_friendly, cms_result, ts_result, tsa_serial)
        )
    _check_dss(pdf, folder, findings, [signer_ca_pem, tsa_ca_pem])
    return findings


def _check_dss(pdf: bytes, folder: Path, findings: Findings, ca_pems: list[Path]) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    root = PdfFileReader(io.BytesIO(pdf)).root
    dss = root["/DSS"]
    certs = [x509.load_der_x509_certificate(s.get_object().data) for s in dss.get("/Certs", [])]
    bundle = folder / "ca-bundle.pem"
    bundle.write_bytes(b"".join(p.read_bytes() for p in ca_pems))
    for n, stream in enumerate(dss.get("/OCSPs", [])):
        data = stream.get_object().data
        # asn1crypto parses: cryptography refuses the fractional seconds certomancer writes in producedAt.
        response = asn1_ocsp.OCSPResponse.load(data)
        assert response["response_status"].native == "successful"
        (folder / f"ocsp{n}.der").write_bytes(data)
        findings.ocsp_openssl.append(
            _openssl(
                "ocsp",
                "-respin",
                str(folder / f"ocsp{n}.der"),
                "-CAfile",
                str(bundle),
                "-verify_other",
                str(bundle),
                "-no_nonce",
            )  # fmt: skip
        )
        for single in response.basic_ocsp_response["tbs_response_data"]["responses"]:
            if single["cert_status"].name == "good":
                findings.ocsp_good_serials.add(single["cert_id"]["serial_number"].native)
    assert certs, "no certificates in the DSS"
