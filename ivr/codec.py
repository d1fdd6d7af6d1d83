"""One way to write the small frozen dataclasses of ivr (events, their segments) as JSON values
and read them back: `[kind, field, field, ...]` in the fields' declared order, a field that is
itself a known dataclass written the same way. A kind is the class's name in snake case
(`SpeechStarted` -> `speech_started`). Reading a kind the codec was not given, or a row of the
wrong length, raises CodecError: nothing unknown is read as something else."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any


class CodecError(ValueError):
    """A row that is not one of the codec's classes."""


def kind_of(cls: type) -> str:
    """A class's kind: its name in snake case."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


class Codec:
    """Rows of the dataclasses `classes` (and of those among their fields' values)."""

    def __init__(self, classes: Iterable[type]) -> None:
        self._classes: dict[str, type] = {}
        for cls in classes:
            kind = kind_of(cls)
            if self._classes.get(kind, cls) is not cls:
                raise ValueError(f"two classes of kind {kind!r}: {self._classes[kind]}, {cls}")
            self._classes[kind] = cls
        self._fields = {k: tuple(f.name for f in dataclasses.fields(c)) for k, c in self.items()}

    def items(self) -> list[tuple[str, type]]:
        """(kind, class) of every class the codec reads."""
        return list(self._classes.items())

    def encode(self, obj: Any) -> list:
        """The row of a dataclass of the codec."""
        kind = kind_of(type(obj))
        if self._classes.get(kind) is not type(obj):
            raise CodecError(f"not a class of this codec: {type(obj).__name__}")
        values = (getattr(obj, name) for name in self._fields[kind])
        return [kind, *(self.encode(v) if dataclasses.is_dataclass(v) else v for v in values)]

    def decode(self, row: Any) -> Any:
        """The object of a row; CodecError for an unknown kind or a row of the wrong length."""
        if not isinstance(row, list) or not row or not isinstance(row[0], str):
            raise CodecError(f"not a row: {row!r}")
        kind, values = row[0], row[1:]
        names = self._fields.get(kind)
        if names is None:
            raise CodecError(f"unknown kind {kind!r}; known: {', '.join(self._classes)}")
        if len(values) != len(names):
            raise CodecError(f"{kind!r} row with {len(values)} values, not {len(names)}")
        decoded = (self.decode(v) if self._is_row(v) else v for v in values)
        return self._classes[kind](**dict(zip(names, decoded, strict=True)))

    def _is_row(self, value: Any) -> bool:
        return isinstance(value, list) and bool(value) and value[0] in self._classes
