"""Reference governance data from the seed documents: forums with mandates (seed 003 §5.2–5.3, seed 001 §7,
seed 004), the managed objects over time (seed 004) and the SHVO management plans 2023 (seed 001 §3.1) and
2025 (seed 003 §2.2). Seats are named by title, never by a person's name. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from brygga.governance.models import (
    Forum,
    ForumMandate,
    ForumMember,
    GoalCategory,
    ManagedObject,
    ManagedObjectStatus,
    ManagementPlan,
    MandateArea,
    PlanGoal,
    Side,
)
from brygga.organisations.models import Subregion

M = MandateArea

FORUMS: list[dict[str, object]] = [
    {
        "code": "sitiv",
        "name": "Styrgrupp IT i Väst (SITIV)",
        "kind": Forum.Kind.DECISION,
        "mandate": "Strategisk ledningsgrupp för samarbete i Västra "
        "Götaland. Beslutar om budget, tillkommande "
        "uppdrag och avvikelser utanför ram för pågående förvaltningsobjekt, projekt och uppdrag. I löpande "
        "frågor avseende etablerade samverkanslösningar är styrgruppen beslutande.",
        "meeting_frequency": "4 ggr/år",
        "convener": "SITIV; funktionsledare GITS är föredragande",
        "requires_balance": True,
        "source": "Seed 003 §5.2; seed 004 (uppdragshandling 2011-03-08, avtal 2010)",
        "areas": [M.BUDGET, M.NEW_ASSIGNMENT, M.WITHIN_FRAME],
    },
    {
        "code": "sitiv-au",
        "name": "SITIV AU",
        "kind": Forum.Kind.DECISION,
        "mandate": "Operativ ledningsgrupp utifrån delegerat mandat från SITIV. Bereder ärenden till SITIV.",
        "meeting_frequency": "4–8 ggr/år alt. vid behov",
        "convener": "SITIV AU",
        "requires_balance": False,
        "source": "Seed 003 §5.2",
        "areas": [M.PREPARATION],
    },
    {
        "code": "ledningsrad-shvo",
        "name": "Ledningsråd samordnad hälsa, vård och omsorg",
        "kind": Forum.Kind.DECISION,
        "mandate": "Styrgrupp/ledningsråd för förvaltningsuppdraget: beslutar inom uppdraget inom ram. "
        "Verksamhetskompetens med uppgift att förankra i och lyfta behov från verksamheten.",
        "meeting_frequency": "Efter behov",
        "convener": "Ordförande",
        "requires_balance": True,
        "source": "Seed 001 §7.2; seed 003 §5.2",
        "areas": [M.WITHIN_FRAME],
    },
    {
        "code": "vvg",
        "name": "Vårdsamverkan Västra Götaland (VVG)",
        "kind": Forum.Kind.DECISION,
        "mandate": "Gemensam ledningsgrupp för huvudmännen för samverkan på länsnivå. Styrgrupp för "
        "vårdsamverkansprocesser; tar ställning till årlig förvaltningsplan SHVO och länsgemensamma "
        "styrdokument.",
        "meeting_frequency": "Enligt VVG:s plan",
        "convener": "VVG:s ordförande",
        "requires_balance": False,
        "source": "Seed 004 (uppdragshandling 2016-11-16)",
        "areas": [M.GUIDELINE],
    },
    {
        "code": "gits-ledningsrad",
        "name": "GITS ledningsråd",
        "kind": Forum.Kind.DECISION,
        "mandate": "Beslutar, planerar, bereder och följer upp nya "
        "och befintliga uppdrag och aktiviteter för "
        "GITS i enlighet med delegation från SITIV.",
        "meeting_frequency": "Cirka var tredje vecka",
        "convener": "Funktionsledare GITS",
        "requires_balance": False,
        "source": "Seed 003 §5.2",
        "areas": [M.WITHIN_FRAME],
    },
    {
        "code": "gemensam-beredning",
        "name": "Gemensam beredning VVG och SITIV",
        "kind": Forum.Kind.WORKING,
        "mandate": "Sorterar och bereder gemensamma frågor och ärenden "
        "kring samordnad hälsa, vård och omsorg "
        "inför beredning VVG och/eller beredning SITIV. Agenda och underlag minst tre dagar före mötet; "
        "övriga frågor bereds till efterföljande möte.",
        "meeting_frequency": "En gång per månad",
        "convener": "Årsvis omväxlande VVG eller SITIV",
        "requires_balance": True,
        "source": "Seed 004; seed 003 §5.2",
        "areas": [M.PREPARATION],
    },
    {
        "code": "referensgrupp-shvo",
        "name": "Länsgemensam referensgrupp SHVO",
        "kind": Forum.Kind.WORKING,
        "mandate": "Stöd till GITS i förvaltningsplan SHVO; "
        "ansvarar för revideringar av redaktionell karaktär "
        "i de länsgemensamma rutinerna. 1–2 representanter per delregion, Göteborgsområdet upp till fyra.",
        "meeting_frequency": "6–8 möten per år",
        "convener": "GITS",
        "requires_balance": False,
        "source": "Seed 004; seed 001 §7.3 (tidigare Förvaltningsgrupp SAMSA)",
        "areas": [M.EDITORIAL],
    },
    {
        "code": "arbetsgrupp-avvikelser",
        "name": "Arbetsgrupp avvikelser",
        "kind": Forum.Kind.WORKING,
        "mandate": "Tar fram gemensam klassificeringsstruktur, lyfter behov från verksamheten, planerar "
        "utbildningar, skapar informationsmaterial samt hanterar ärenden och behörigheter.",
        "meeting_frequency": "Ca 8 ggr/år",
        "convener": "VGR",
        "requires_balance": False,
        "source": "Seed 001 §7.3",
        "areas": [M.PREPARATION],
    },
    {
        "code": "gits-avstamning",
        "name": "GITS-avstämning",
        "kind": Forum.Kind.WORKING,
        "mandate": "Planering och avstämning av pågående aktiviteter inom GITS.",
        "meeting_frequency": "Vid behov och enskilt",
        "convener": "GITS funktionsledare",
        "requires_balance": False,
        "source": "Seed 003 §5.3",
        "areas": [M.PREPARATION],
    },
]

# SITIV's representatives as listed in seed 004 (2026), by title only.
SITIV_SEATS: list[tuple[str, str, str]] = [
    ("Direktör, VästKom", Side.MUNICIPAL, ForumMember.Role.MEMBER),
    ("Förbundsdirektör, Skaraborgs kommunalförbund", Side.MUNICIPAL, ForumMember.Role.MEMBER),
    ("Förbundsdirektör, Göteborgsregionens kommunalförbund", Side.MUNICIPAL, ForumMember.Role.MEMBER),
    ("Förbundsdirektör, Boråsregionen/Sjuhärads kommunalförbund", Side.MUNICIPAL, ForumMember.Role.MEMBER),
    ("Förbundsdirektör, Fyrbodal", Side.MUNICIPAL, ForumMember.Role.MEMBER),
    (
        "Förvaltningsdirektör äldre samt vård- och omsorgsförvaltningen, Göteborgs Stad",
        Side.MUNICIPAL,
        ForumMember.Role.MEMBER,
    ),
    (
        "Avdelningschef innovation, digitalisering och ledarskap, Göteborgs Stad",
        Side.MUNICIPAL,
        ForumMember.Role.MEMBER,
    ),
    ("Strateg hjälpmedel och digitalisering, VästKom", Side.MUNICIPAL, ForumMember.Role.MEMBER),
    ("Avdelningschef utveckling, VGR", Side.REGION, ForumMember.Role.MEMBER),
    ("Avdelningschef FVM leverans, VGR", Side.REGION, ForumMember.Role.MEMBER),
    ("Primärvårdsdirektör, VGR", Side.REGION, ForumMember.Role.MEMBER),
    ("Avdelningschef samhällsanalys, VGR", Side.REGION, ForumMember.Role.MEMBER),
    ("Funktionsledare kommunsamverkan, VGR", Side.REGION, ForumMember.Role.MEMBER),
    ("Funktionsledare, GITS", Side.JOINT, ForumMember.Role.ADJUNCT),
]

# Gemensam beredning VVG och SITIV (seed 004): one from each principal of each preparation, plus GITS.
JOINT_PREPARATION_SEATS: list[tuple[str, str, str]] = [
    ("Representant beredning VVG, VästKom", Side.MUNICIPAL, ForumMember.Role.MEMBER),
    ("Representant beredning VVG, VGR", Side.REGION, ForumMember.Role.MEMBER),
    ("Representant beredning SITIV, VästKom", Side.MUNICIPAL, ForumMember.Role.MEMBER),
    ("Representant beredning SITIV, VGR", Side.REGION, ForumMember.Role.MEMBER),
    ("Funktionsledare, GITS", Side.JOINT, ForumMember.Role.MEMBER),
]

SEED_004_DATE = dt.date(2026, 3, 5)

MANAGED_OBJECTS: list[tuple[str, str, str, str]] = [
    (
        "websesam",
        "WebSesam",
        ManagedObject.Status.CLOSED,
        "Hjälpmedel; gemensamt system enligt avtalet 2010.",
    ),
    ("millennium", "Millennium", ManagedObject.Status.CLOSED, ""),
    ("digitala-hjalpmedel", "Digitala hjälpmedel i samverkan", ManagedObject.Status.CLOSED, ""),
    ("vastfolket", "VästFolket", ManagedObject.Status.CLOSED, "Folkbokföringsuppgifter."),
    ("kommunikationstorget", "Kommunikationstorget", ManagedObject.Status.CLOSED, ""),
    ("siths", "SITHS", ManagedObject.Status.CURRENT, "Gemensam utgivning av eTjänstekort."),
    (
        "shvo",
        "SAMSA – Samordnad hälsa, vård och omsorg",
        ManagedObject.Status.CURRENT,
        "SAMSA IT-tjänst med rutiner för in- och utskrivning, SIP och öppenvård.",
    ),
    ("ehdv", "Elevhälsodata Väst (EHDV)", ManagedObject.Status.CURRENT, ""),
    ("bibblix", "Bibblix", ManagedObject.Status.CURRENT, "Läsförståelse-app; fakturering enligt prislista."),
    ("oppna-data", "Öppen data", ManagedObject.Status.CURRENT, "Öppna data-plattform och dataportal Väst."),
    ("lisa", "LISA – gemensamt labinformationssystem", ManagedObject.Status.POSSIBLE, ""),
    ("iot", "IoT-plattform", ManagedObject.Status.POSSIBLE, ""),
    ("med-control-pro", "Med Control Pro", ManagedObject.Status.POSSIBLE, ""),
]

G = GoalCategory
SHVO_2023_GOALS: list[tuple[str, str]] = [
    (
        G.MAINTAIN,
        "Revidering av rutin för in- och utskrivning i sluten hälso- och sjukvård i Västra Götaland",
    ),
    (G.MAINTAIN, "Revidering av utbildningsmaterial för rutin för in- och utskrivning"),
    (G.NECESSARY, "Nödvändig förbättring av funktionalitet i SAMSA IT-tjänst"),
    (
        G.NECESSARY,
        "Ta fram en rutin för utlämnande av registerutdrag i samverkan till vård- och omsorgsmottagaren",
    ),
    (G.NECESSARY, "Följa den tekniska utvecklingen inom distansmötesteknik"),
    (G.NECESSARY, "Säkerställa framtagande och publicerande av månadsvis processtatistik"),
    (
        G.NECESSARY,
        "Säkerställa den verksamhetsdrivna förvaltningen in i ny långsiktig förvaltning inom "
        "enheten Regional leverans",
    ),
    (G.NECESSARY, "Ta fram informationsmaterial för samtyckeshantering till medarbetare och den enskilde"),
    (
        G.NECESSARY,
        "Vid behov vara delaktiga vid säkerställande av rapporter, utdata och betalningsberäkning "
        "till analysplattformen",
    ),
    (G.NECESSARY, "Utreda möjligheten att ansluta SAMSA IT-tjänst till SAMBI för federerad inloggning"),
    (G.NECESSARY, "Åtgärder utifrån externa beroenden: Millennium, reservnummer och befolkningsregister"),
    (G.NECESSARY, "Utveckla hantering av avvikelser i samverkan på strategisk och operativ nivå"),
    (
        G.DEVELOP,
        "Säkerställa förutsättningar för att inkludera samtliga berörda verksamheter i SAMSA IT-tjänst",
    ),
    (G.DEVELOP, "Stödja länsövergripande beslutade processer inom uppdraget"),
    (G.DEVELOP, "Utöka stöd för att hålla samman och vägleda arbetet med SIP i Västra Götaland"),
    (G.DEVELOP, "Säkerställa förutsättningar för att publicera SIP på 1177"),
    (G.DEVELOP, "Säkerställa förvaltning, åtkomst och eventuell utveckling av Utdata SAMSA IT-tjänst"),
    (G.DEVELOP, "Ytterligare utdata och statistik: planerat utskrivningsklar, SIP och möte"),
    (G.DEVELOP, "Utveckla och digitalisera utbildningsmaterial"),
    (G.DEVELOP, "Tillgängliggöra utbildningsmaterial på Lärplattformen Totara"),
    (G.DEVELOP, "Stärka länsövergripande samordning av processarbetet"),
    (G.DEVELOP, "Ta fram rutin för Länsgemensam riktlinje för Öppenvårdsprocessen"),
    (G.DEVELOP, "Utreda och formalisera möjligheten att bifoga dokument i SAMSA IT-tjänst"),
    (G.DEVELOP, "Ge användare en bättre användarupplevelse i gränssnitt och funktionalitet"),
    (G.DEVELOP, "Utreda möjlighet till ny reservrutin i stället för fax"),
]

SHVO_2025_GOALS: list[tuple[str, str]] = [
    (G.MAINTAIN, "Nödvändig förbättring av funktionalitet i SAMSA IT-tjänst"),
    (G.MAINTAIN, "Följa den tekniska utvecklingen inom distansmötesteknik"),
    (G.MAINTAIN, "Fortsätta följa utveckling av användningen av bifoga filer i SAMSA IT-tjänst"),
    (G.MAINTAIN, "Säkerställa framtagande och publicering av processtatistik för verksamhetsuppföljning"),
    (G.MAINTAIN, "Säkerställa den verksamhetsdrivna förvaltningen och utvecklingen i samverkan"),
    (G.MAINTAIN, "Säkerställa fortsatt digitalisering av utbildningsmaterial"),
    (G.MAINTAIN, "Säkerställa åtkomst av digitalt utbildningsmaterial för berörda verksamheter"),
    (G.MAINTAIN, "Följa revidering av samtyckesrutin och färdigställa informationsmaterial"),
    (G.MAINTAIN, "Vidta åtgärder utifrån externa beroenden på nationell nivå"),
    (G.DEVELOP, "Säkerställa förutsättningar att använda SAMSA IT-tjänst för samtliga verksamheter"),
    (G.DEVELOP, "Bistå utvecklingen av RPA-lösningar mellan journalsystem och SAMSA IT-tjänst"),
    (G.DEVELOP, "Stödja nya länsövergripande beslutade processer"),
    (G.DEVELOP, "Utöka stöd för att hålla samman och vägleda arbetet med SIP"),
    (G.DEVELOP, "Säkerställa förvaltning, åtkomst och utveckling av utdatalösning"),
    (G.DEVELOP, "Ytterligare utdata och statistik: planerat utskrivningsklar, SIP och möte"),
    (G.DEVELOP, "Stärka länsövergripande samordning av processarbetet"),
    (G.DEVELOP, "Förslag till rutin och implementeringsmaterial för Öppenvårdsprocessen"),
    (G.DEVELOP, "Förslag till rutin för utlämnande av registerutdrag ur SAMSA IT-tjänst"),
    (G.DEVELOP, "Utreda ersättare av fax som reservrutin"),
]


@transaction.atomic
def load_governance_reference() -> None:
    for spec in FORUMS:
        areas = spec["areas"]
        fields = {k: v for k, v in spec.items() if k not in ("code", "areas")}
        forum, created = Forum.objects.get_or_create(code=spec["code"], defaults=fields)
        if created:
            for area in areas:  # type: ignore[attr-defined]
                ForumMandate.objects.create(forum=forum, area=area)
    _seats("sitiv", SITIV_SEATS)
    _seats("gemensam-beredning", JOINT_PREPARATION_SEATS)
    _reference_group_seats()
    for code, name, status, description in MANAGED_OBJECTS:
        obj, created = ManagedObject.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "status": status,
                "status_since": SEED_004_DATE,
                "description": description,
            },
        )
        if created:
            ManagedObjectStatus.objects.create(
                managed_object=obj,
                status=status,
                since=SEED_004_DATE,
                note="Status enligt seed 004 (2026-03-05).",
            )
    shvo = ManagedObject.objects.get(code="shvo")
    _plan(
        shvo,
        2023,
        "Förvaltningsplan SHVO 2023",
        "ledningsrad-shvo",
        dt.date(2022, 11, 29),
        "Seed 001 §3.1",
        SHVO_2023_GOALS,
    )
    _plan(
        shvo,
        2025,
        "Förvaltningsplan SHVO 2025",
        "vvg",
        dt.date(2025, 9, 11),
        "Seed 003 §2.2; ställningstagande VVG 2025-09-11 (seed 004)",
        SHVO_2025_GOALS,
    )


def _seats(code: str, seats: list[tuple[str, str, str]]) -> None:
    forum = Forum.objects.get(code=code)
    if forum.members.exists():
        return
    for title, side, role in seats:
        ForumMember.objects.create(forum=forum, title=title, side=side, role=role)


def _reference_group_seats() -> None:
    forum = Forum.objects.get(code="referensgrupp-shvo")
    if forum.members.exists():
        return
    for subregion in Subregion.objects.all():
        ForumMember.objects.create(
            forum=forum, title=f"Representant {subregion.name}", side=Side.MUNICIPAL, subregion=subregion
        )
        ForumMember.objects.create(
            forum=forum, title=f"Representant {subregion.name}", side=Side.REGION, subregion=subregion
        )
    ForumMember.objects.create(
        forum=forum, title="Ordförande, GITS", side=Side.JOINT, role=ForumMember.Role.CHAIR
    )


def _plan(
    obj: ManagedObject,
    year: int,
    title: str,
    forum_code: str,
    decided_on: dt.date,
    source: str,
    goals: list[tuple[str, str]],
) -> None:
    plan, created = ManagementPlan.objects.get_or_create(
        managed_object=obj,
        year=year,
        defaults={
            "title": title,
            "decided_by": Forum.objects.get(code=forum_code),
            "decided_on": decided_on,
            "source": source,
        },
    )
    if created:
        for i, (category, text) in enumerate(goals):
            PlanGoal.objects.create(plan=plan, category=category, text=text, position=i)
