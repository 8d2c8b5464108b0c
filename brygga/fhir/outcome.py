"""OperationOutcome: every refusal names the FHIRPath of the element and the rule, as brygga's JSON API does
with ``field`` and ``rule``. brygga's rule codes (R-INS-4, DATUM-ORDNING, …) travel in
``issue.details.coding``
with the system ``systems.RULE_CODES``; the Swedish message is ``details.text``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brygga.core.errors import DomainError
from brygga.fhir import systems

# HTTP status → the closest issue type (http://hl7.org/fhir/issue-type).
ISSUE_TYPE_BY_STATUS = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    415: "not-supported",
    422: "processing",
    503: "transient",
}


@dataclass
class Issue:
    rule: str
    message: str
    expression: str = ""
    code: str = ""  # issue type; defaults from the HTTP status

    def as_fhir(self, status: int) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": "error",
            "code": self.code or ISSUE_TYPE_BY_STATUS.get(status, "processing"),
            "details": {
                "coding": [{"system": systems.RULE_CODES, "code": self.rule}],
                "text": str(self.message),
            },
        }
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


@dataclass
class FhirError(Exception):
    """A refusal answered with an OperationOutcome; raised inside a transaction it rolls everything back."""

    status: int
    issues: list[Issue] = field(default_factory=list)

    @classmethod
    def single(cls, status: int, rule: str, message: str, expression: str = "", code: str = "") -> FhirError:
        return cls(status, [Issue(rule, message, expression, code)])

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues, self.status)


def operation_outcome(issues: list[Issue], status: int) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [i.as_fhir(status) for i in issues]}


def from_domain_error(exc: DomainError, paths: dict[str, str], resource_type: str) -> FhirError:
    """A service's refusal in FHIR terms: each problem's ``field`` becomes the FHIRPath of the element that
    carried it (``paths``), or ``<Resource>`` when the rule concerns the resource as a whole. A refusal of the
    service's state rules (409) and permissions (403) keep their status; everything else is 422 (the resource
    is well-formed FHIR but breaks a business rule)."""
    status = exc.status if exc.status in (403, 404, 409) else 422
    issues = [
        Issue(
            p.rule,
            p.message,
            paths.get(p.field, f"{resource_type}"),
            "business-rule" if status == 422 else "",
        )
        for p in exc.problems
    ]
    return FhirError(status, issues)
