"""A local SAML 2.0 identity provider for tests, built on pysaml2's IdP role (saml2.server.Server) and served
over HTTP on 127.0.0.1 (wsgiref in a thread). Keys and self-signed certificates for the IdP and for brygga's SP
are generated at start. It plays Inera's IdP in the Sambi federation: HTTP-Redirect for requests, HTTP-POST for
the signed response, the Sambi attribute names, single logout.

Needs the ``xmlsec1`` program (Debian package xmlsec1; ``.ci/run`` installs it): without it the tests skip on a
developer machine and FAIL when ``BRYGGA_REQUIRE_IDP=1``."""

from __future__ import annotations

import datetime as dt
import html
import itertools
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ATTRIBUTE_MAPS = str(Path(__file__).resolve().parents[1] / "brygga" / "signin" / "attributemaps")
SAMBI = "http://sambi.se/attributes/1/"
LOA3 = "http://id.sambi.se/loa/loa3"


def require_xmlsec() -> str:
    path = shutil.which("xmlsec1")
    if path is None:
        reason = "the xmlsec1 program (Debian package xmlsec1) is needed for SAML"
        if os.environ.get("BRYGGA_REQUIRE_IDP") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def key_pair(folder: Path, name: str) -> tuple[str, str]:
    """A fresh RSA key and a self-signed certificate valid around now (the test's clock)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"brygga test {name}")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_path), str(cert_path)


def saml_account(
    label: str,
    employee: str,
    unit_hsa_id: str,
    commission: str | None,
    purpose: str = "Vård och behandling",
    licences: tuple[str, ...] = (),
    loa: str = LOA3,
    given: str = "Test",
    family: str = "Testsson",
) -> dict[str, Any]:
    ava: dict[str, list[str]] = {
        "employeeHsaId": [employee],
        "givenName": [given],
        "surname": [family],
        "healthCareProviderHsaId": ["SE2321000131-F000000000001"],
        "levelOfAssurance": [loa],
    }
    if licences:
        ava["healthcareProfessionalLicense"] = list(licences)
    if commission:
        ava |= {
            "commissionHsaId": [commission],
            "commissionName": [f"Uppdrag {label}"],
            "commissionPurpose": [purpose],
            "healthCareUnitHsaId": [unit_hsa_id],
        }
    return {"label": label, "ava": ava, "loa": loa}


@dataclass
class SamlIdp:
    url: str
    entity_id: str
    metadata_file: str
    sp_key: str
    sp_cert: str
    accounts: dict[str, dict[str, Any]]
    server: Any = None
    # Test knobs: issue the next responses for another audience.
    audience_override: str | None = None
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # account → SP entity it signed in to

    def logout_request_url(self, account: str, sp_slo_url: str, sp_entity_id: str) -> str:
        """An IdP-initiated single logout for the account (the user logged out at the IdP)."""
        from saml2 import BINDING_HTTP_REDIRECT
        from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID

        _id, request = self.server.create_logout_request(
            destination=sp_slo_url,
            issuer_entity_id=sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=account),
        )
        http = self.server.apply_binding(BINDING_HTTP_REDIRECT, str(request), sp_slo_url, relay_state="")
        return dict(http["headers"])["Location"]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


class _ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _page(title: str, body: str) -> list[bytes]:
    return [
        f'<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><main><h1>{title}</h1>{body}</main></body></html>".encode()
    ]


def _app(idp: SamlIdp) -> Any:
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID

    counter = itertools.count(1)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if path == "/sso" and "SAMLRequest" in query:
            request = idp.server.parse_authn_request(
                query["SAMLRequest"],
                BINDING_HTTP_REDIRECT,
                relay_state=query.get("RelayState"),
                sigalg=query.get("SigAlg"),
                signature=query.get("Signature"),
            )
            key = f"req{next(counter)}"
            idp.pending[key] = {"request": request.message, "relay_state": query.get("RelayState", "")}
            options = "".join(
                f'<option value="{html.escape(k)}">{html.escape(a["label"])}</option>'
                for k, a in idp.accounts.items()
            )
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return _page(
                "SITHS-inloggning (SAML-test-IdP)",
                f'<form method="post" action="/sso/login"><input type="hidden" name="key" value="{key}">'
                f'<label for="account">Kort och medarbetaruppdrag</label><select id="account" name="account">'
                f'{options}</select><button type="submit">Logga in</button></form>',
            )
        if path == "/sso/login" and environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
            pending = idp.pending.pop(form.get("key", ""), None)
            account = idp.accounts.get(form.get("account", ""))
            if pending is None or account is None:
                start_response("400 Bad Request", [("Content-Type", "text/plain")])
                return [b"unknown request or account"]
            request = pending["request"]
            sp_entity = request.issuer.text
            acs = request.assertion_consumer_service_url
            response = idp.server.create_authn_response(
                identity=account["ava"],
                in_response_to=request.id,
                destination=acs,
                sp_entity_id=idp.audience_override or sp_entity,
                name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=form["account"]),
                authn={"class_ref": account["loa"], "authn_auth": idp.entity_id},
                sign_assertion=True,
            )
            idp.sessions[form["account"]] = sp_entity
            http = idp.server.apply_binding(
                BINDING_HTTP_POST, str(response), acs, relay_state=pending["relay_state"], response=True
            )
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [http["data"].encode() if isinstance(http["data"], str) else http["data"]]
        if path == "/slo" and "SAMLRequest" in query:
            # SP-initiated logout: answer with a LogoutResponse to the SP's logout service.
            request = idp.server.parse_logout_request(
                query["SAMLRequest"],
                BINDING_HTTP_REDIRECT,
                relay_state=query.get("RelayState"),
                sigalg=query.get("SigAlg"),
                signature=query.get("Signature"),
            )
            response = idp.server.create_logout_response(request.message, [BINDING_HTTP_REDIRECT])
            http = idp.server.apply_binding(
                BINDING_HTTP_REDIRECT,
                str(response),
                request.message.issuer and _sp_slo(idp, request.message.issuer.text),
                relay_state=query.get("RelayState", ""),
                response=True,
            )
            start_response("302 Found", http["headers"])
            return [b""]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return app


def _sp_slo(idp: SamlIdp, sp_entity_id: str) -> str:
    from saml2 import BINDING_HTTP_REDIRECT

    services = idp.server.metadata.single_logout_service(sp_entity_id, BINDING_HTTP_REDIRECT, "spsso")
    return str(services[0]["location"])


@contextmanager
def running_saml_idp(
    folder: Path, accounts: dict[str, dict[str, Any]], sp_metadata: Any
) -> Iterator[SamlIdp]:
    """``sp_metadata(idp_metadata_file, sp_key, sp_cert) -> str``: brygga's SP metadata, built by the caller
    with brygga's own configuration (so the IdP trusts exactly what brygga sends)."""
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.config import IdPConfig
    from saml2.metadata import entity_descriptor
    from saml2.saml import NAME_FORMAT_URI
    from saml2.server import Server

    xmlsec = require_xmlsec()
    idp_key, idp_cert = key_pair(folder, "idp")
    sp_key, sp_cert = key_pair(folder, "sp")
    httpd = make_server(
        "127.0.0.1", 0, lambda e, s: [b""], server_class=_ThreadedServer, handler_class=_QuietHandler
    )
    url = f"http://127.0.0.1:{httpd.server_port}"
    config = {
        "entityid": f"{url}/idp",
        "xmlsec_binary": xmlsec,
        "attribute_map_dir": ATTRIBUTE_MAPS,
        "service": {
            "idp": {
                "name": "brygga test IdP",
                "endpoints": {
                    "single_sign_on_service": [(f"{url}/sso", BINDING_HTTP_REDIRECT)],
                    "single_logout_service": [(f"{url}/slo", BINDING_HTTP_REDIRECT)],
                },
                "policy": {"default": {"lifetime": {"minutes": 15}, "name_form": NAME_FORMAT_URI}},
                "want_authn_requests_signed": True,
            }
        },
        "key_file": idp_key,
        "cert_file": idp_cert,
        "metadata": {},
    }
    idp_metadata_file = folder / "idp-metadata.xml"
    idp_conf = IdPConfig()
    idp_conf.load(dict(config))
    idp_metadata_file.write_text(str(entity_descriptor(idp_conf)))
    sp_metadata_file = folder / "sp-metadata.xml"
    sp_metadata_file.write_text(sp_metadata(str(idp_metadata_file), sp_key, sp_cert))
    config["metadata"] = {"local": [str(sp_metadata_file)]}
    idp_conf = IdPConfig()
    idp_conf.load(config)
    idp = SamlIdp(
        url=url,
        entity_id=f"{url}/idp",
        metadata_file=str(idp_metadata_file),
        sp_key=sp_key,
        sp_cert=sp_cert,
        accounts=accounts,
        server=Server(config=idp_conf),
    )
    httpd.set_app(_app(idp))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
