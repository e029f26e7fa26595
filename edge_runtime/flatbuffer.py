"""Flatbuffers without generated code: builder helpers and a bounds-checked table reader.

The TFLite Metadata code (edge_runtime.metadata) uses these to write and read metadata with the
`flatbuffers` package alone, so the runtime needs neither TensorFlow nor tflite-support.
"""

from __future__ import annotations

import struct

import flatbuffers

from edge_runtime.errors import UserError

# ---- writing. Flatbuffers are built children first; numbers in the dicts are schema field ids.


def table(b: flatbuffers.Builder, refs: dict[int, int | None], tags: dict[int, int] | None = None) -> int:
    """Ends a table holding offset fields `refs` (None: absent) and one-byte fields `tags`."""
    b.StartObject(8)
    for slot, offset in refs.items():
        if offset:
            b.PrependUOffsetTRelativeSlot(slot, offset, 0)
    for slot, value in (tags or {}).items():
        b.PrependUint8Slot(slot, value, 0)
    return b.EndObject()


def string(b: flatbuffers.Builder, text: str) -> int | None:
    """A string's offset, or None for an empty one (the field is left out)."""
    return b.CreateString(text) if text else None


def float_vector(b: flatbuffers.Builder, values: tuple[float, ...]) -> int | None:
    """A float32 vector's offset, or None when empty."""
    if not values:
        return None
    b.StartVector(4, len(values), 4)
    for value in reversed(values):
        b.PrependFloat32(value)
    return b.EndVector()


def table_vector(b: flatbuffers.Builder, offsets: list[int]) -> int | None:
    """A vector of table offsets, or None when empty."""
    if not offsets:
        return None
    b.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return b.EndVector()


# ---- reading: a bounds-checked table accessor, so a corrupt file is a UserError, never garbage.


def unpack(buf: bytes, fmt: str, pos: int, what: str, size: int | None = None):
    """Reads one `fmt` value at `pos` (or only checks `size` bytes there), refusing to leave `buf`."""
    size = struct.calcsize(fmt) if size is None else size
    if pos < 0 or pos + size > len(buf):
        raise UserError(f"{what}: offset {pos} is outside its {len(buf)} bytes; re-create the model")
    return struct.unpack_from(fmt, buf, pos)[0] if fmt else None


class Table:
    """Read-only view of one flatbuffer table; `what` prefixes the error on a bad offset."""

    def __init__(self, buf: bytes, pos: int, what: str):
        self._buf, self._pos, self._what = buf, pos, what
        self._vtable = pos - self._get("<i", pos)
        self._vtable_size = self._get("<H", self._vtable)

    @classmethod
    def root(cls, buf: bytes, what: str) -> Table:
        return cls(buf, unpack(buf, "<I", 0, what), what)

    def _get(self, fmt: str, pos: int):
        return unpack(self._buf, fmt, pos, self._what)

    def _field(self, field_id: int) -> int | None:
        entry = 4 + 2 * field_id
        offset = self._get("<H", self._vtable + entry) if entry + 2 <= self._vtable_size else 0
        return self._pos + offset if offset else None

    def _target(self, field_id: int) -> int | None:
        at = self._field(field_id)
        return None if at is None else at + self._get("<I", at)

    def _vector(self, field_id: int, item_size: int) -> tuple[int, int]:
        at = self._target(field_id)
        if at is None:
            return 0, 0
        count = self._get("<I", at)
        unpack(self._buf, "", at + 4, self._what, size=count * item_size)  # the whole vector fits
        return at + 4, count

    def scalar(self, field_id: int, fmt: str, default: int = 0) -> int:
        at = self._field(field_id)
        return default if at is None else self._get(fmt, at)

    def string(self, field_id: int) -> str:
        data = self.byte_vector(field_id)
        try:
            return "" if data is None else data.decode("utf-8")
        except UnicodeDecodeError:
            raise UserError(f"{self._what}: a string is not UTF-8; re-create the model") from None

    def byte_vector(self, field_id: int) -> bytes | None:
        if self._field(field_id) is None:
            return None
        start, count = self._vector(field_id, 1)
        return bytes(self._buf[start : start + count])

    def floats(self, field_id: int) -> tuple[float, ...]:
        start, count = self._vector(field_id, 4)
        return struct.unpack_from(f"<{count}f", self._buf, start) if count else ()

    def table(self, field_id: int) -> Table | None:
        at = self._target(field_id)
        return None if at is None else Table(self._buf, at, self._what)

    def tables(self, field_id: int) -> list[Table]:
        start, count = self._vector(field_id, 4)
        items = (start + 4 * i for i in range(count))
        return [Table(self._buf, at + self._get("<I", at), self._what) for at in items]
