"""People whose care is coordinated. Identity, folkbokföring and listing — what the four admission-notice
fields and need-to-know routing are built from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from brygga.people.identifiers import IdKind


class Person(models.Model):
    class Source(models.TextChoices):
        """Where the identity data came from (ADR 0500)."""

        PU = "pu", _("Folkbokföringen (personuppgiftstjänsten)")
        FILE = "file", _("Lokal folkbokföringsfil")
        MANUAL = "manual", _("Manuellt registrerad")
        SEED = "seed", _("Inläst av brygga")

    identifier = models.CharField(_("personnummer"), max_length=14, unique=True)
    id_kind = models.CharField(
        _("typ av nummer"), max_length=20, choices=[(k.value, k.value.capitalize()) for k in IdKind]
    )
    birth_date = models.DateField(_("födelsedatum"), null=True, blank=True)
    given_name = models.CharField(_("förnamn"), max_length=100)
    family_name = models.CharField(_("efternamn"), max_length=100)
    street_address = models.CharField(_("folkbokföringsadress"), max_length=200, blank=True)
    postal_code = models.CharField(_("postnummer"), max_length=6, blank=True)
    city = models.CharField(_("postort"), max_length=100, blank=True)
    registered_municipality = models.ForeignKey(
        "organisations.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_persons",
        verbose_name=_("folkbokföringskommun"),
        help_text=_("Tom om personen är folkbokförd utanför Västra Götaland."),
    )
    listed_unit = models.ForeignKey(
        "organisations.Unit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="listed_persons",
        verbose_name=_("listad vårdcentral"),
    )
    # Skyddade personuppgifter (sekretessmarkering, skyddad folkbokföring): name and address never leave
    # the checked person view, and never appear in lists or exports.
    protected_identity = models.BooleanField(_("skyddade personuppgifter"), default=False)
    deceased_on = models.DateField(_("avliden"), null=True, blank=True)
    # A reserve number replaced by a real personnummer keeps pointing at the person who took over.
    replaced_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_identities"
    )
    source = models.CharField(
        _("källa"), max_length=10, choices=Source.choices, default=Source.SEED, db_default=Source.SEED
    )
    # Last successful answer from the register; the data is as of then. A later failed attempt is kept apart,
    # so the page can say "the register did not answer; the data is from <register_checked_at>".
    register_checked_at = models.DateTimeField(_("hämtad från folkbokföringen"), null=True, blank=True)
    register_failed_at = models.DateTimeField(null=True, blank=True)
    # Why a person was entered by hand (reserve number, not in the register); required for Source.MANUAL.
    manual_reason = models.CharField(
        _("skäl till manuell registrering"), max_length=300, blank=True, default="", db_default=""
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name = _("person")
        verbose_name_plural = _("personer")

    def __str__(self) -> str:
        # Never the name: str() ends up in logs, admin and error pages.
        return f"Person {self.pk}"

    @property
    def formatted_identifier(self) -> str:
        return formatted_identifier(self.identifier, self.id_kind)


def formatted_identifier(identifier: str, id_kind: str) -> str:
    """An identity number as shown: ``YYYYMMDD-NNNN``; a reserve number as it was given."""
    if id_kind == IdKind.RESERVE:
        return identifier
    return f"{identifier[:8]}-{identifier[8:]}"
