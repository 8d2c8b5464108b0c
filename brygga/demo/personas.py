"""Demo personas and persons. Every identity number is in Skatteverket's range for test personal identity
numbers (birth number 980–999, Luhn-valid) — never a real person's. Names are invented."""

from __future__ import annotations

from brygga.accounts.permissions import Role
from brygga.core.identifiers import luhn_check_digit

DEMO_PASSWORD = "brygga-demo-2026"  # noqa: S105 — the documented demo password; demo data only


def test_number(birth: str, serial: int) -> str:
    """A Luhn-valid number in the test range: birth YYYYMMDD, birth number 980–999 (+ check digit)."""
    assert 980 <= serial <= 999
    body = birth[2:] + f"{serial:03d}"
    return f"{birth}-{serial:03d}{luhn_check_digit(body)}"


# username, first name, last name, title, [(unit HSA suffix lookup key, role)]
# Unit keys are resolved by brygga.demo.services (names of reference units).
PERSONAS: list[tuple[str, str, str, str, list[tuple[str, Role]]]] = [
    (
        "sjukskoterska",
        "Sara",
        "Avdelningsdotter",
        "Sjuksköterska",
        [
            ("Sahlgrenska, medicinavdelning", Role.WARD_NURSE),
            ("Sahlgrenska, geriatrisk avdelning", Role.WARD_NURSE),
        ],
    ),
    ("lakare", "Lars", "Läkarsson", "Läkare", [("Sahlgrenska, medicinavdelning", Role.PHYSICIAN)]),
    (
        "kontaktpunkt",
        "Karin",
        "Kommunsson",
        "Samordnare",
        [("Göteborg kontaktpunkt", Role.MUNICIPAL_CONTACT)],
    ),
    (
        "hemsjukvard",
        "Hanna",
        "Hemström",
        "Distriktssköterska",
        [("Göteborg hemsjukvård", Role.HOME_CARE_NURSE)],
    ),
    (
        "handlaggare",
        "Bo",
        "Biståndsson",
        "Biståndshandläggare",
        [("Göteborg biståndsenhet", Role.CARE_MANAGER)],
    ),
    (
        "fastvardkontakt",
        "Frida",
        "Vårdkontaktsson",
        "Sjuksköterska",
        [
            ("Närhälsan Göteborg vårdcentral", Role.CARE_COORDINATOR),
        ],
    ),
    ("lasbehorig", "Linn", "Läsare", "Undersköterska", [("Sahlgrenska, medicinavdelning", Role.READ_ONLY)]),
    ("statistik", "Stig", "Statistiksson", "Analytiker", [("GITS kansli", Role.STATISTICS)]),
    (
        "loggranskare",
        "Lova",
        "Loggsson",
        "Informationssäkerhetssamordnare",
        [
            ("Sahlgrenska, medicinavdelning", Role.LOG_REVIEWER),
        ],
    ),
    ("lokaladmin", "Ali", "Adminsson", "Systemförvaltare", [("Göteborg kontaktpunkt", Role.LOCAL_ADMIN)]),
    ("gits", "Gunnel", "Samordnarsson", "GITS-samordnare", [("GITS kansli", Role.GITS_COORDINATOR)]),
    ("forum", "Filip", "Forumsson", "Verksamhetschef", [("Borås kontaktpunkt", Role.FORUM_MEMBER)]),
]

# identifier, given, family, street, postal code, city, SCB code, listed vårdcentral (municipality name),
# protected identity
PERSONS: list[tuple[str, str, str, str, str, str, str, str | None, bool]] = [
    (
        test_number("19400312", 982),
        "Astrid",
        "Exempelsson",
        "Testgatan 1",
        "41301",
        "Göteborg",
        "1480",
        "Göteborg",
        False,
    ),
    (
        test_number("19381105", 985),
        "Gösta",
        "Provsson",
        "Provvägen 12",
        "41502",
        "Göteborg",
        "1480",
        "Göteborg",
        False,
    ),
    (
        test_number("19521224", 990),
        "Maj",
        "Demodotter",
        "Fiktiva torget 3",
        "50330",
        "Borås",
        "1490",
        "Borås",
        False,
    ),
    (
        test_number("19470830", 993),
        "Erik",
        "Påhittad",
        "Låtsasgatan 7",
        "54130",
        "Skövde",
        "1496",
        "Skövde",
        False,
    ),
    (
        test_number("19611001", 981),
        "Skyddad",
        "Person",
        "Hemlig adress 1",
        "41101",
        "Göteborg",
        "1480",
        "Göteborg",
        True,
    ),
    (
        test_number("19330415", 988),
        "Ingrid",
        "Testberg",
        "Övningsvägen 5",
        "46130",
        "Trollhättan",
        "1488",
        "Trollhättan",
        False,
    ),
    (
        test_number("19550707", 996),
        "Olle",
        "Fiktivsson",
        "Prövostigen 9",
        "44130",
        "Alingsås",
        "1489",
        "Alingsås",
        False,
    ),
    (
        test_number("19290219", 999),
        "Elsa",
        "Hundraår",
        "Åldersgatan 2",
        "43130",
        "Mölndal",
        "1481",
        "Mölndal",
        False,
    ),
]
