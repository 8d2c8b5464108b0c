"""Demo data of the receiving side: contact details for the demo units (PTS's numbers for fictional use,
031-390 06 00–99, never a real line) and demo e-mail addresses under the reserved .example domain."""

from __future__ import annotations

from brygga.accounts.models import User
from brygga.organisations.models import Unit
from brygga.receiving.models import UnitContact

CONTACTS = {
    "Sahlgrenska, medicinavdelning": (
        "031-390 06 10",
        "medicin.sahlgrenska@brygga.example",
        "Dygnet runt",
        "Vårdplanerande sjuksköterska: 031-390 06 11\nAnsvarig läkare nås via avdelningen",
    ),
    "Göteborg kontaktpunkt": (
        "031-390 06 20",
        "kontaktpunkt.goteborg@brygga.example",
        "Vardagar 8–16.30, helger 9–15",
        "Samordnare i tjänst: 031-390 06 21",
    ),
    "Göteborg hemsjukvård": (
        "031-390 06 30",
        "",
        "Dygnet runt",
        "Tjänstgörande sjuksköterska: 031-390 06 31",
    ),
    "Närhälsan Göteborg vårdcentral": ("031-390 06 40", "", "Vardagar 8–17", ""),
}


def load_receiving_demo() -> int:
    """Idempotent: sets the demo units' contact details and gives demo users without an address one."""
    count = 0
    for name, (phone, mailbox, hours, roles) in CONTACTS.items():
        unit = Unit.objects.filter(name=name).first()
        if unit is None:
            continue
        UnitContact.objects.update_or_create(
            unit=unit,
            defaults={"phone": phone, "mailbox": mailbox, "opening_hours": hours, "contact_roles": roles},
        )
        count += 1
    for user in User.objects.filter(email="", is_service_account=False).exclude(username=""):
        user.email = f"{user.username}@brygga.example"
        user.save(update_fields=["email"])
    return count
