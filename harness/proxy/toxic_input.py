"""A toxic read from a create or update request, as Toxiproxy's ToxicCollection reads it.

Create: `stream` defaults to downstream (any case), `toxicity` to 1, `name` to
`<type>_<stream>`; attributes not given keep Go's zero value. Update: only `attributes`
(merged into the current ones) and `toxicity` change; the rest of the body is ignored.
Both also read gamedrill's `ttl_s` lease.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.proxy import wire
from harness.proxy.errors import invalid_stream, invalid_toxic_type, toxic_exists
from harness.proxy.model import ToxicSpec
from harness.proxy.stream import Direction
from harness.proxy.toxics import REGISTRY

WRAPPER = "ToxicWrapper"
Lease = float | None | wire.Missing  # seconds, null (drop the lease), or not given


def new_toxic(body: Any, existing: set[str]) -> tuple[ToxicSpec, Lease]:
    obj = wire.expect_object(body, "toxics.ToxicWrapper")
    name = wire.get_str(obj, "name", WRAPPER, "")
    toxic_type = wire.get_str(obj, "type", WRAPPER, "")
    stream = wire.get_str(obj, "stream", WRAPPER, "downstream")
    toxicity = wire.get_float(obj, "toxicity", WRAPPER, 1.0)
    lease = wire.get_ttl_s(obj)
    direction = Direction.parse(stream)
    if direction is None:
        raise invalid_stream()
    name = name or f"{toxic_type}_{stream}"
    toxic_class = REGISTRY.get(toxic_type)
    if toxic_class is None:
        raise invalid_toxic_type()
    if name in existing:
        raise toxic_exists()
    toxic = wire.decode_attributes(toxic_type, toxic_class(), wire.get(obj, "attributes"))
    return ToxicSpec(name, toxic_type, stream, direction, toxicity, toxic), lease


def updated_toxic(spec: ToxicSpec, body: Any) -> tuple[ToxicSpec, Lease]:
    obj = wire.expect_object(body, "toxics.ToxicWrapper")
    toxicity = wire.get_float(obj, "toxicity", WRAPPER, spec.toxicity)
    lease = wire.get_ttl_s(obj)
    toxic = wire.decode_attributes(spec.type, spec.toxic, wire.get(obj, "attributes"))
    return dataclasses.replace(spec, toxic=toxic, toxicity=toxicity), lease
