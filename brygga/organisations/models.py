"""The Västra Götaland organisation registry: principals, delregioner, kommunalförbund, municipalities
with population per year, hospital groups and sites, and the units where work happens and messages
are addressed."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from brygga.organisations.hsa import validate_hsa_id

scb_code_validator = RegexValidator(
    r"^\d{4}$", _("En kommunkod (SCB) är fyra siffror, t.ex. 1480."), code="SCB-KOMMUNKOD"
)


class Organisation(models.Model):
    """A legal body that acts in the collaboration: the region, a municipality, a kommunalförbund, VästKom,
    a hospital group or a private care provider."""

    class Kind(models.TextChoices):
        REGION = "region", _("Region")
        MUNICIPALITY = "municipality", _("Kommun")
        ASSOCIATION = "association", _("Kommunalförbund")
        MUNICIPAL_COOPERATION = "municipal_cooperation", _("Kommunernas samverkansorgan")
        HOSPITAL_GROUP = "hospital_group", _("Sjukhusförvaltning")
        PRIMARY_CARE = "primary_care", _("Primärvårdsförvaltning")
        PRIVATE_PROVIDER = "private_provider", _("Privat vårdgivare")

    name = models.CharField(_("namn"), max_length=200, unique=True)
    short_name = models.CharField(_("kortnamn"), max_length=60, blank=True)
    kind = models.CharField(_("typ"), max_length=30, choices=Kind.choices)
    org_number = models.CharField(_("organisationsnummer"), max_length=11, blank=True)
    # Which principal (huvudman) the organisation belongs to: a hospital group belongs to the region.
    principal = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parts",
        verbose_name=_("huvudman"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisationer")

    def __str__(self) -> str:
        return self.name

    @property
    def is_region_side(self) -> bool:
        """True for the region and what belongs to it (hospital groups, regional primary care)."""
        root = self.principal or self
        return root.kind == self.Kind.REGION

    @property
    def principal_or_self(self) -> Organisation:
        return self.principal or self


class Subregion(models.Model):
    """One of the six areas of delregional vårdsamverkan."""

    name = models.CharField(_("namn"), max_length=60, unique=True)
    slug = models.SlugField(unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("delregion")
        verbose_name_plural = _("delregioner")

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    scb_code = models.CharField(_("kommunkod"), max_length=4, unique=True, validators=[scb_code_validator])
    name = models.CharField(_("namn"), max_length=60, unique=True)
    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="municipality", verbose_name=_("organisation")
    )
    subregion = models.ForeignKey(
        Subregion, on_delete=models.PROTECT, related_name="municipalities", verbose_name=_("delregion")
    )
    association = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="member_municipalities",
        verbose_name=_("kommunalförbund"),
        limit_choices_to={"kind": Organisation.Kind.ASSOCIATION},
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("kommun")
        verbose_name_plural = _("kommuner")

    def __str__(self) -> str:
        return self.name

    def population_for(self, year: int) -> PopulationFigure | None:
        return self.population_figures.filter(year=year).first()


class PopulationFigure(models.Model):
    """The population of a municipality for a year, with its reference date and source. The economy splits
    the municipal share by the figures of the year it is asked for, never a nearby one."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="population_figures"
    )
    year = models.PositiveSmallIntegerField(_("år"))
    population = models.PositiveIntegerField(_("folkmängd"))
    reference_date = models.DateField(_("referensdatum"))
    source = models.CharField(_("källa"), max_length=300)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["municipality__name", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "year"], name="one_population_per_year")
        ]
        verbose_name = _("folkmängd")
        verbose_name_plural = _("folkmängder")

    def __str__(self) -> str:
        return f"{self.municipality} {self.year}: {self.population}"


class Site(models.Model):
    """A hospital (sjukhus) within a hospital group."""

    name = models.CharField(_("namn"), max_length=120, unique=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="sites", verbose_name=_("sjukhusförvaltning")
    )
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="sites")

    class Meta:
        ordering = ["name"]
        verbose_name = _("sjukhus")
        verbose_name_plural = _("sjukhus")

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """Where work happens and where messages are addressed: a ward, a vårdcentral, a municipality's contact
    point, home health care, a social-services office. Carries a validated HSA-id."""

    class Kind(models.TextChoices):
        WARD = "ward", _("Vårdavdelning")
        PRIMARY_CARE = "primary_care", _("Vårdcentral")
        MUNICIPAL_CONTACT = "municipal_contact", _("Kommunens kontaktpunkt")
        HOME_HEALTH = "home_health", _("Hemsjukvård")
        SOCIAL_SERVICES = "social_services", _("Socialtjänst")
        SCHOOL = "school", _("Elevhälsa")
        ADMINISTRATION = "administration", _("Administration")

    hsa_id = models.CharField(_("HSA-id"), max_length=31, unique=True, validators=[validate_hsa_id])
    name = models.CharField(_("namn"), max_length=160)
    kind = models.CharField(_("typ"), max_length=30, choices=Kind.choices)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="units", verbose_name=_("organisation")
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="units", verbose_name=_("kommun")
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="units", verbose_name=_("sjukhus")
    )
    is_active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("enhet")
        verbose_name_plural = _("enheter")
        indexes = [models.Index(fields=["kind", "municipality"])]

    def __str__(self) -> str:
        return self.name

    @property
    def picker_label(self) -> str:
        """How the unit pickers show it: name, municipality, kind, HSA-id (the id makes the text unique)."""
        return unit_label(self.name, self.municipality.name, str(self.get_kind_display()), self.hsa_id)

    @property
    def principal(self) -> Organisation:
        return self.organisation.principal_or_self

    @property
    def is_region_side(self) -> bool:
        return self.organisation.is_region_side


def unit_label(name: str, municipality: str, kind_label: str, hsa_id: str) -> str:
    """The unit pickers' text of a unit: name, municipality, kind, HSA-id (the id makes the text unique)."""
    return f"{name} — {municipality}, {kind_label} ({hsa_id})"
