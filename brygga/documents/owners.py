"""What attachments and documents can belong to. Other apps register their owner types (a message, a SIP, a
care request) with a check that the owner concerns the person, typically in their AppConfig.ready()::

    from brygga.documents.owners import register_owner
    register_owner("sip", _("SIP"), lambda person, owner_id: Plan.objects.filter(pk=owner_id,
                                                                                 person=person).exists())

An unregistered owner type is refused (fail closed). "person" (filed directly on the person) always exists.

Reading: whoever may open the person may read what is filed on the person, unless the owning app registers a
stricter reader check with ``register_reader`` (messages: only units with a basis to read the message,
``brygga.messaging.services.Readable``). ``readable_owners`` is asked for every attachment downloaded or
listed, for all of a listing's owners of one type at once."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from brygga.accounts.context import Actor
from brygga.core.errors import DomainError
from brygga.people.models import Person

OwnerCheck = Callable[[Person, str], bool]
ReaderCheck = Callable[[Actor, list[str]], set[str]]

_OWNERS: dict[str, tuple[str | Promise, OwnerCheck]] = {}
_READERS: dict[str, ReaderCheck] = {}


def register_owner(owner_type: str, label: str | Promise, check: OwnerCheck) -> None:
    _OWNERS[owner_type] = (label, check)


def register_reader(owner_type: str, check: ReaderCheck) -> None:
    """``check(actor, owner_ids)``: those of the owners whose things the actor's unit may read. It takes them
    all at once so that a listing costs one check, not one per owner."""
    _READERS[owner_type] = check


def readable_owners(actor: Actor, owner_type: str, owner_ids: list[str]) -> set[str]:
    check = _READERS.get(owner_type)
    return set(owner_ids) if check is None else check(actor, owner_ids)


def owner_label(owner_type: str) -> str:
    return str(_OWNERS[owner_type][0]) if owner_type in _OWNERS else owner_type


def check_owner(person: Person, owner_type: str, owner_id: str) -> None:
    entry = _OWNERS.get(owner_type)
    if entry is None or not owner_id or len(owner_id) > 40 or not entry[1](person, owner_id):
        raise DomainError.single(
            "owner", "DOK-AGARE", str(_("Dokumentet kan inte knytas dit: okänd mottagare eller fel person."))
        )


register_owner("person", _("Personakt"), lambda person, owner_id: owner_id == str(person.pk))
