"""Global ids (Relay): ``base64("Objective:12")`` outside, the row id inside."""

from __future__ import annotations

from strawberry import relay

from ..core.errors import DomainError, ErrorCode, Problem
from ..core.i18n import msg


def decode(value: relay.GlobalID | str, type_name: str, field: str) -> int:
    """The row id in a global id of ``type_name``, or an INVALID problem for ``field``."""
    try:
        gid = value if isinstance(value, relay.GlobalID) else relay.GlobalID.from_id(value)
        if gid.type_name != type_name:
            raise ValueError(gid.type_name)
        return int(gid.node_id)
    except (ValueError, TypeError) as exc:
        raise DomainError(
            Problem(ErrorCode.INVALID, msg("error.not_an_id", field=field, type=type_name), field)
        ) from exc


def decode_optional(value: relay.GlobalID | str | None, type_name: str, field: str) -> int | None:
    return None if value is None else decode(value, type_name, field)


def encode(type_name: str, row_id: int) -> relay.GlobalID:
    return relay.GlobalID(type_name, str(row_id))
