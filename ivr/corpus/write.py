"""Writing a corpus manifest (`manifest.yaml`; the schema is in ivr.corpus.manifest)."""

from __future__ import annotations

from typing import Any

import yaml

from ivr.corpus.manifest import GENERATOR, VERSION


class _FlowDict(dict):
    """A mapping written in YAML flow style (one line)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _FlowDict, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)


def manifest_yaml(seed: int | None, entries: list[dict[str, Any]]) -> str:
    """The manifest text (UTF-8 YAML) for call entries as built by the renderer."""
    calls = []
    for entry in entries:
        call = dict(entry)
        call["noise"] = _FlowDict(entry["noise"])
        call["speech"] = [_FlowDict(segment) for segment in entry["speech"]]
        for key in ("sounds", "agent"):
            if key in entry:
                call[key] = [_FlowDict(item) for item in entry[key]]
        call["expect"] = dict(entry["expect"])
        calls.append(call)
    document = {"version": VERSION, "generator": GENERATOR, "seed": seed, "calls": calls}
    return yaml.dump(
        document,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1000,
    )
