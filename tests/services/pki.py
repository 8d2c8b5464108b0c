"""A time-stamping authority (RFC 3161) and an OCSP responder (RFC 6960) served by certomancer's animator on
127.0.0.1 (the PKI testing tool pyHanko's own tests use), over real HTTP on a free port.

The architecture is made here: a root CA, a TSA certificate whose AIA names the root's OCSP responder, and
that responder's certificate; keys are generated per run and validity runs from a year ago to five years
ahead of the test's clock, so the suite passes on any date. ``stop_answering`` makes both services hang up,
as a TSA that does not answer."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from werkzeug.serving import make_server

ARCH = "brygga-test"


def _key(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def _config(keys: Path, url: str) -> dict:  # type: ignore[type-arg]
    now = dt.datetime.now(dt.UTC)
    validity = {
        "valid-from": (now - dt.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "valid-to": (now + dt.timedelta(days=5 * 365)).strftime("%Y-%m-%dT%H:%M:%S+0000"),
    }
    usage = {"id": "key_usage", "critical": True}
    return {
        "external-url-prefix": url,
        "keysets": {
            ARCH: {
                "path-prefix": str(keys),
                "keys": {name: {"path": f"{name}.key.pem"} for name in ("root", "tsa", "ocsp")},
            }
        },
        "pki-architectures": {
            ARCH: {
                "keyset": ARCH,
                "entity-defaults": {"country-name": "SE", "organization-name": "brygga testmiljö"},
                "entities": {
                    "root": {"common-name": "Test Root CA"},
                    "tsa": {"common-name": "Test Time Stamping Authority"},
                    "ocsp": {"common-name": "Test OCSP Responder"},
                },
                "certs": {
                    "root": {
                        "subject": "root",
                        "issuer": "root",
                        "validity": validity,
                        "extensions": [
                            {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                            {
                                **usage,
                                "smart-value": {
                                    "schema": "key-usage",
                                    "params": ["digital_signature", "key_cert_sign", "crl_sign"],
                                },
                            },
                        ],
                    },
                    "tsa": {
                        "subject": "tsa",
                        "issuer": "root",
                        "validity": validity,
                        "extensions": [
                            {
                                **usage,
                                "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
                            },
                            {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                            {
                                "id": "authority_information_access",
                                "smart-value": {
                                    "schema": "aia-urls",
                                    "params": {"ocsp-responder-names": ["root-ocsp"]},
                                },
                            },
                        ],
                    },
                    "ocsp": {
                        "subject": "ocsp",
                        "issuer": "root",
                        "validity": validity,
                        "extensions": [
                            {
                                **usage,
                                "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
                            },
                            {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                            {"id": "ocsp_no_check"},
                        ],
                    },
                },
                "services": {
                    "ocsp": {
                        "root-ocsp": {"for-issuer": "root", "responder-cert": "ocsp", "signing-key": "ocsp"}
                    },
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            }
        },
    }


class LocalPki:
    def __init__(self, folder: Path) -> None:
        from certomancer.integrations.animator import Animator, AnimatorArchStore
        from certomancer.registry import CertomancerConfig

        keys = folder / "keys"
        keys.mkdir(parents=True)
        for name in ("root", "tsa", "ocsp"):
            _key(keys / f"{name}.key.pem")
        self.answering = True
        self._app = None
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        config = CertomancerConfig(_config(keys, self.url), key_search_dir=str(keys))
        self.arch = config.get_pki_arch(ARCH)  # type: ignore[arg-type]
        self._app = Animator(AnimatorArchStore({ARCH: self.arch}), with_web_ui=False)  # type: ignore[dict-item]
        self.tsa_url = f"{self.url}/{ARCH}/tsa/tsa"
        self.ocsp_url = f"{self.url}/{ARCH}/ocsp/root-ocsp"
        self.root_pem = folder / "root.pem"
        self.root_pem.write_bytes(self._pem("root"))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _pem(self, label: str) -> bytes:
        from asn1crypto import pem

        return pem.armor("CERTIFICATE", self.arch.get_cert(label).dump())  # type: ignore[arg-type]

    def _dispatch(self, environ, start_response):  # type: ignore[no-untyped-def]
        if not self.answering:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"down"]
        return self._app(environ, start_response)  # type: ignore[misc]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
