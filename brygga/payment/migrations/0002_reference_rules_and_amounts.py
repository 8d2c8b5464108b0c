"""The payment rules and amounts known from rules.md §1.8 and §2.2, as the first versions of the configuration.
Written out literally (not imported) so this migration means the same thing forever. Later changes are new
rule versions or new amount rows made in the application, never edits here."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

VASTKOM_2018 = (
    "https://www.vastkom.se/samverkansomraden/nyhetsarkiv/valfardsutveckling/valfardsutveckling/"
    "remisstillkommunernaombetalningsansvarvidutskrivningfranslutenvard.5.1b2c567c161f2616fc6305bf.html"
)
VG_FAQ = (
    "https://www.vardsamverkan.se/samverkanteman/samverkan-vid-in--och-utskrivning-fran-sluten-vard/"
    "trygg-och-effektiv-utskrivning-fran-sluten-vard/fragor-och-svar/kommunens-betalningsansvar/"
)
GITS_2020 = (
    "https://www.vastkom.se/gits/nyhetsarkiv/nyhetsarkivsamsa/aktuelltsamsa/"
    "informationavseendeersattningsbeloppforutskrivningsklarapatientersamtberakningavbetalningsansvarfor"
    "patienterinompsykiatriskvard.5.50cc920016fa8c77c583125e.html"
)

RULES = [
    {
        "code": "national-default",
        "name": "Lagens förval: betalningsansvar tre kalenderdagar efter meddelandet om utskrivningsklar",
        "kind": "individual",
        "scope": "national",
        "care_type": "",
        "valid_from": dt.date(2018, 1, 1),
        "valid_to": None,
        "rule_ids": "R-BET-1, R-BET-2",
        "source": "Lag (2017:612); https://www.jpinfonet.se/kunskap/nyheter4/lag-om-samverkan-vid-utskrivning-"
        "fran-sluten-halso--och-sjukvard/ — 'tre kalenderdagar' (Läkartidningen 2017: 'tre vardagar', "
        "se rules.md §8; kalenderdagar används tills lagtexten är kontrollerad).",
        "free_days": 3,
        "requires_sip_summons": False,
    },
    {
        "code": "national-psychiatry-2018",
        "name": "Psykiatrisk slutenvård 2018: 30 dagar efter meddelandet (övergångsbestämmelse)",
        "kind": "individual",
        "scope": "national",
        "care_type": "psychiatric",
        "valid_from": dt.date(2018, 1, 2),
        "valid_to": dt.date(2018, 12, 31),
        "rule_ids": "R-BET-5",
        "source": "Prop. 2017/18:12, i kraft 2018-01-02; https://lagen.nu/prop/2017/18:12",
        "free_days": 30,
        "requires_sip_summons": False,
    },
    {
        "code": "vg-average",
        "name": "Västra Götaland: medelvärdesmodellen, 3,0 dagar per kommun och kalendermånad",
        "kind": "average",
        "scope": "agreement",
        "care_type": "",
        "valid_from": dt.date(2018, 9, 25),
        "valid_to": None,
        "rule_ids": "R-VG-BET-1, R-VG-BET-2, R-VG-BET-3, R-VG-BET-4, R-VG-BET-5, R-VG-BET-7, R-VG-BET-8",
        "source": f"VästKom remiss 2018: {VASTKOM_2018} ; VG frågor och svar: {VG_FAQ} . "
        "Osäkert [U]: dag 0, fönster, från vilken dag långa vistelser debiteras och om de lämnar snittet "
        "(rules.md §9.3).",
        "free_days": 3,
        "requires_sip_summons": True,
    },
    {
        "code": "vg-psychiatry-2020",
        "name": "Västra Götaland, psykiatrisk vård 2020-01-01–2020-03-31: individberäkning efter 7 kalenderdagar",
        "kind": "individual",
        "scope": "agreement",
        "care_type": "psychiatric",
        "valid_from": dt.date(2020, 1, 1),
        "valid_to": dt.date(2020, 3, 31),
        "rule_ids": "R-VG-BET-6",
        "source": f"GITS 2020: {GITS_2020}",
        "free_days": 7,
        "requires_sip_summons": True,
    },
]

AMOUNTS = [
    (2019, Decimal("7800"), "HSLF-FS 2018:67", "https://lagen.nu/hslf-fs/2018:67"),
    (2020, Decimal("8200"), "Socialstyrelsen, belopp för 2020 (HSLF-FS-nummer ej kontrollerat)", GITS_2020),
    (
        2022,
        Decimal("9300"),
        "Socialstyrelsen, belopp för 2022 (HSLF-FS-nummer ej kontrollerat)",
        "https://xn--vrdsamverkanskne-dobn.se/2021/12/14/belopp-for-vard-av-utskrivningsklara-patienter/",
    ),
]


def load(apps, schema_editor):
    PaymentRule = apps.get_model("payment", "PaymentRule")
    DailyAmount = apps.get_model("payment", "DailyAmount")
    for rule in RULES:
        PaymentRule.objects.get_or_create(code=rule["code"], version=1, defaults=rule)
    for year, amount, source, url in AMOUNTS:
        if not DailyAmount.objects.filter(year=year).exists():
            DailyAmount.objects.create(year=year, amount=amount, source=source, source_url=url)


class Migration(migrations.Migration):
    dependencies = [("payment", "0001_initial_models")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
