"""Writing a corpus into a folder that holds an earlier one: the calls the earlier manifest
listed and the new one does not are stale, and go. Nothing else in the folder is touched: only
files a manifest written by `ivr synth` named, by bare file name, inside the folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ivr.corpus.manifest import GENERATOR, ManifestError, read_manifest_data

MANIFEST_NAME = "manifest.yaml"
"""The manifest's name in a corpus folder (as ivr.synth.corpus writes it)."""


def listed_files(folder: Path) -> frozenset[str]:
    """The file names the manifest in `folder` lists, if `ivr synth` wrote it (its
    `generator:`); empty without a manifest, or for one that is not ours or cannot be read
    (then nothing is ever removed). Names with a folder part are left out."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return frozenset()
    try:
        data = read_manifest_data(path)
    except ManifestError:
        return frozenset()
    if not isinstance(data, Mapping) or data.get("generator") != GENERATOR:
        return frozenset()
    calls = data.get("calls")
    if not isinstance(calls, list):
        return frozenset()
    names = [call.get("file") for call in calls if isinstance(call, Mapping)]
    return frozenset(
        name
        for name in names
        if isinstance(name, str) and name not in ("", ".", "..") and Path(name).name == name
    )


def remove_stale(folder: Path, before: frozenset[str]) -> list[Path]:
    """Remove from `folder` the files the earlier manifest listed (`before`, its
    `listed_files` taken before the new corpus was written) that the manifest there now does
    not; only regular files (not links). The files removed, sorted; none when the manifest now
    there is not one `ivr synth` wrote. OSError if one cannot be removed."""
    now = listed_files(folder)
    if not now:
        return []
    removed = []
    for name in sorted(before - now):
        path = Path(folder) / name
        if path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(path)
    return removed
