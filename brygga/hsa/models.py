"""brygga's copy of the HSA catalogue's units (ADR 0503): what the daily full file export says, imported
idempotently. A catalogue unit is linked to the brygga Unit with the same HSA-id; a closed unit is marked
closed (and its brygga unit inactive), never deleted — cases, messages and logs keep pointing at it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class HsaUnit(models.Model):
    hsa_id = models.CharField(_("HSA-id"), max_length=31, unique=True)
    name = models.CharField(_("namn"), max_length=200)
    dn = models.CharField(max_length=500)
    parent_hsa_id = models.CharField(_("överordnad enhet"), max_length=31, blank=True)
    care_provider_hsa_id = models.CharField(_("vårdgivare"), max_length=31, blank=True)
    street_address = models.CharField(_("besöksadress"), max_length=200, blank=True)
    postal_address = models.CharField(_("postadress"), max_length=300, blank=True)
    telephone = models.CharField(_("telefon"), max_length=60, blank=True)
    municipality_code = models.CharField(_("kommunkod"), max_length=4, blank=True)
    end_date = models.DateField(_("slutdatum"), null=True, blank=True)
    closed_at = models.DateTimeField(_("stängd"), null=True, blank=True)
    unit = models.OneToOneField(
        "organisations.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="hsa_record"
    )
    first_imported_at = models.DateTimeField()
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        verbose_name = _("HSA-enhet")
        verbose_name_plural = _("HSA-enheter")

    def __str__(self) -> str:
        return self.hsa_id


class HsaImport(models.Model):
    """One run of the import, with its change report (or the problems that stopped it)."""

    imported_at = models.DateTimeField()
    file_name = models.CharField(max_length=300)
    file_sha256 = models.CharField(max_length=64)
    applied = models.BooleanField(default=False)
    report = models.JSONField(default=dict)

    class Meta:
        ordering = ["-imported_at"]
        verbose_name = _("HSA-import")
        verbose_name_plural = _("HSA-importer")

    def __str__(self) -> str:
        return f"{self.file_name} {self.imported_at:%Y-%m-%d %H:%M}"
