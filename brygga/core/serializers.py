"""The backup's JSON serializer (``dumpdata --format json-exact``): Django's JSON serializer, except that
times keep their microseconds. Django's encoder cuts them to milliseconds, so a restored installation held
other timestamps than the one backed up (08:00:00.000500 came back as 08:00:00), which a byte-for-byte
comparison of two backups found now and then, and which changes values that MACs and digests may cover.
Restoring reads the file with Django's own JSON deserializer, which parses the full ISO 8601 text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.serializers.json import Deserializer as JsonDeserializer
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.json import Serializer as JsonSerializer


class ExactJSONEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder without the cut to milliseconds (UTC still written with "Z")."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime):
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        if isinstance(o, dt.time):
            return o.isoformat()
        return super().default(o)


class Serializer(JsonSerializer):
    def _init_options(self) -> None:
        super()._init_options()  # type: ignore[misc]
        self.json_kwargs["cls"] = ExactJSONEncoder


Deserializer = JsonDeserializer
