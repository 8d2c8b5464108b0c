"""Start the local OpenID Connect provider (tests/idp/op.mjs, panva/oidc-provider under Node) on 127.0.0.1.

Needs ``node`` and ``npm ci`` in tests/idp (``.ci/run`` does both). Without them the tests that use it skip
on a developer machine and FAIL when ``BRYGGA_REQUIRE_IDP=1`` (set by ``.ci/run``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

IDP_DIR = Path(__file__).resolve().parent / "idp"
LOA3 = "http://id.sambi.se/loa/loa3"


def require_node() -> str:
    node = shutil.which("node")
    if node is None or not (IDP_DIR / "node_modules" / "oidc-provider").is_dir():
        reason = "node and `npm ci` in tests/idp are needed for the OIDC provider"
        if os.environ.get("BRYGGA_REQUIRE_IDP") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return node


@dataclass
class OidcProvider:
    issuer: str
    process: subprocess.Popen[str]


def siths_account(
    label: str,
    employee: str,
    unit_hsa_id: str,
    commission: str | None,
    purpose: str = "Vård och behandling",
    licences: tuple[str, ...] = (),
    acr: str = LOA3,
    given: str = "Test",
    family: str = "Testsson",
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "employeeHsaId": employee,
        "given_name": given,
        "family_name": family,
        "name": f"{given} {family}",
        "healthCareProviderHsaId": "SE2321000131-F000000000001",
        "healthcareProfessionalLicense": list(licences),
    }
    if commission:
        claims |= {
            "commissionHsaId": commission,
            "commissionName": f"Uppdrag {label}",
            "commissionPurpose": purpose,
            "healthCareUnitHsaId": unit_hsa_id,
        }
    return {"label": label, "acr": acr, "claims": claims}


@contextmanager
def running_oidc_provider(
    accounts: dict[str, dict[str, Any]], clients: list[dict[str, Any]]
) -> Iterator[OidcProvider]:
    node = require_node()
    errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in finally; never a pipe nobody drains
    process = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
        [node, str(IDP_DIR / "op.mjs")],
        cwd=IDP_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(json.dumps({"accounts": accounts, "clients": clients}))
    process.stdin.close()
    line = process.stdout.readline()
    if not line.startswith("READY "):
        process.kill()
        errors.seek(0)
        raise RuntimeError(f"OIDC provider did not start: {line} {errors.read()}")
    try:
        yield OidcProvider(issuer=line.split()[1], process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        errors.close()
