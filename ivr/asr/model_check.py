"""Checking a Vosk model folder: whether every file Vosk reads is there, and what it holds.

A model is a folder in Vosk's current layout: `am/final.mdl` (the acoustic model),
`conf/model.conf` and `conf/mfcc.conf` (or `conf/fbank.conf`), a decoding graph
(`graph/HCLG.fst`, or the lookahead pair `graph/HCLr.fst` + `graph/Gr.fst` with
`graph/disambig_tid.int`) and, for models that use them, the i-vector extractor files in
`ivector/`. The files are not parsed: a corrupt one shows only when the model is loaded
(ivr.asr.model_load).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

MB = 1 << 20
"""One MB as used in sizes here: 2^20 bytes, as on the official model page."""

_IVECTOR_FILES = (
    "final.ie",
    "final.mat",
    "final.dubm",
    "global_cmvn.stats",
    "online_cmvn.conf",
    "splice.conf",
)
"""What Vosk reads from `ivector/` when a model has an i-vector extractor."""


def _file_problem(root: Path, rel: str) -> str | None:
    """What is wrong with the file `rel` in `root` (missing, not a file, empty), or None."""
    path = root / rel
    try:
        if not path.exists():
            return f"missing {rel}"
        if not path.is_file():
            return f"{rel} is not a file"
        if path.stat().st_size == 0:
            return f"empty {rel}"
    except OSError as exc:
        return f"cannot read {rel}: {exc.strerror or exc}"
    if not os.access(path, os.R_OK):
        return f"cannot read {rel}: permission denied"
    return None


def _nested_model(root: Path) -> Path | None:
    """The one sub-folder holding the model, when a zip was unpacked one level too deep."""
    try:
        children = [c for c in root.iterdir() if not c.name.startswith(".")]
    except OSError:
        return None
    if len(children) == 1 and (children[0] / "am" / "final.mdl").is_file():
        return children[0]
    return None


def check_model(path: str | Path) -> list[str]:
    """Problems that keep the folder from being a usable Vosk model; empty when it looks fine.

    Checks that every file Vosk reads exists and is not empty; it does not parse them (a
    corrupt file shows only when `load_model` loads the model).
    """
    root = Path(path)
    try:
        if not root.exists():
            return ["no such folder"]
        if not root.is_dir():
            if root.suffix.lower() == ".zip":
                return ["a zip file, not a folder: unzip it first"]
            return ["not a folder"]
        empty = next(root.iterdir(), None) is None
    except OSError as exc:
        return [f"cannot read the folder: {exc.strerror or exc}"]
    if empty:
        return ["empty folder"]

    problems: list[str] = []

    def need(rel: str) -> None:
        problem = _file_problem(root, rel)
        if problem is not None:
            problems.append(problem)

    am = _file_problem(root, "am/final.mdl")
    if am is not None:
        nested = _nested_model(root)
        if am.startswith("missing") and nested is not None:
            am += f" (the model is one level down, in {nested.name}/)"
        problems.append(am)
    need("conf/model.conf")
    if _file_problem(root, "conf/fbank.conf") is not None:  # else fbank features, no MFCC
        need("conf/mfcc.conf")

    graph = root / "graph"
    if (graph / "HCLG.fst").exists():
        need("graph/HCLG.fst")
    elif (graph / "HCLr.fst").exists() or (graph / "Gr.fst").exists():
        for rel in ("graph/HCLr.fst", "graph/Gr.fst", "graph/disambig_tid.int"):
            need(rel)
    else:
        problems.append("missing graph: graph/HCLG.fst, or graph/HCLr.fst with graph/Gr.fst")

    if (root / "ivector").is_dir():
        for name in _IVECTOR_FILES:
            need(f"ivector/{name}")
    return problems


def _folder_bytes(root: Path) -> int:
    """Total size of the files under `root` in bytes, following symbolic links."""
    total = 0
    for folder, _dirs, files in os.walk(root, followlinks=True):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(folder, name)).st_size
    return total


def describe_model(path: str | Path) -> str:
    """A short description of a model's layout and size, e.g. `HCLr.fst + Gr.fst graph, ...`."""
    root = Path(path)
    if (root / "graph" / "HCLG.fst").exists():
        parts = ["HCLG.fst graph"]
    else:
        parts = ["HCLr.fst + Gr.fst lookahead graph"]
    if (root / "graph" / "words.txt").exists():
        parts.append("words.txt")
    if (root / "ivector" / "final.ie").exists():
        parts.append("i-vector extractor")
    if (root / "rescore").is_dir():
        parts.append("rescoring LM")
    if (root / "rnnlm").is_dir():
        parts.append("RNNLM")
    parts.append(f"{_folder_bytes(root) / MB:.0f} MB")
    return ", ".join(parts)
