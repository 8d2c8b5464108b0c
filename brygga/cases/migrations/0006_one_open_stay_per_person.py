"""One open stay per person, enforced by the database (ADR 0108).

Before the constraint existed, two concurrent admissions could both commit. Such pairs cannot be resolved
by a migration (which stay is the real one is a clinical decision), so the migration stops and names them;
the ward cancels (makulerar) or closes the wrong one, and the migration is run again."""

from django.db import migrations, models
from django.db.models import Count


def refuse_duplicate_open_stays(apps, schema_editor):  # type: ignore[no-untyped-def]
    Case = apps.get_model("cases", "Case")
    doubled = (
        Case.objects.filter(status__in=["admitted", "on_leave"])
        .values("person_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("person_id", flat=True)
    )
    clashes = {
        person_id: sorted(
            Case.objects.filter(person_id=person_id, status__in=["admitted", "on_leave"]).values_list(
                "pk", flat=True
            )
        )
        for person_id in doubled
    }
    if clashes:
        listed = "; ".join(f"person {p}: cases {', '.join(map(str, c))}" for p, c in clashes.items())
        raise RuntimeError(
            "Persons with more than one open stay must be resolved before one_open_stay_per_person can be "
            f"added (cancel or close the wrong case, then migrate again): {listed}"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_case_discharged_closed_index"),
    ]

    operations = [
        migrations.RunPython(refuse_duplicate_open_stays, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["admitted", "on_leave"])),
                fields=("person",),
                name="one_open_stay_per_person",
            ),
        ),
    ]
