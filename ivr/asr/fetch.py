"""Fetching official Vosk models: download, verify, unpack atomically into audio_models/.

A model is downloaded to a temporary file beside its destination, checked to be a zip whose
single top folder is the model's name, unpacked into a temporary folder, checked with
`check_model`, and only then renamed into place: there is never a half-unpacked model. Without
network the failure is one line saying where to put a model fetched elsewhere.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO

from ivr.asr.model_check import MB, check_model
from ivr.asr.models import DEFAULT_MODEL, MODEL_BASE_URL, ProgressCallback, model_url, models_dir
from ivr.errors import IvrError

DOWNLOAD_TIMEOUT_S = 30.0
"""Default network timeout of a model download (seconds without an answer or new data)."""

_CHUNK_BYTES = 1 << 20

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class _DownloadFailed(Exception):
    """A download failed on the network side; the message is the reason."""


def _network_reason(exc: BaseException, timeout_s: float) -> str:
    """Why a download failed, in a few words."""
    if isinstance(exc, urllib.error.HTTPError):
        reason = f"HTTP {exc.code} {exc.reason}"
        return reason + (" (no model of that name)" if exc.code == 404 else "")
    if isinstance(exc, urllib.error.URLError):
        if not isinstance(exc.reason, BaseException):
            return str(exc.reason)
        exc = exc.reason
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _download(
    url: str, out: IO[bytes], progress: ProgressCallback | None, timeout_s: float
) -> None:
    """Copy `url` into `out`; network failures raise _DownloadFailed with the reason."""
    try:
        response = urllib.request.urlopen(url, timeout=timeout_s)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise _DownloadFailed(_network_reason(exc, timeout_s)) from None
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        done = 0
        if progress is not None:
            progress(done, total)
        while True:
            try:
                chunk = response.read(_CHUNK_BYTES)
            except (http.client.HTTPException, OSError) as exc:
                raise _DownloadFailed(_network_reason(exc, timeout_s)) from None
            if not chunk:
                break
            out.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    if total is not None and done != total:
        raise _DownloadFailed(f"the connection closed after {done} of {total} bytes")


def _unpack(archive: Path, name: str, into: Path, url: str) -> Path:
    """Unpack a model zip whose single top folder is `name` into `into`; the model folder."""
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if not infos:
                raise IvrError(f"{url}: an empty zip file")
            for info in infos:
                parts = PurePosixPath(info.filename).parts
                if (
                    not parts
                    or parts[0] != name
                    or ".." in parts
                    or info.filename.startswith("/")
                    or "\\" in info.filename
                ):
                    raise IvrError(
                        f"{url}: not a model archive: {info.filename!r} is outside "
                        f"the single top folder {name}/"
                    )
            needed = sum(info.file_size for info in infos)
            free = shutil.disk_usage(into).free
            if needed > free:
                raise IvrError(
                    f"{into.parent}: not enough disk space to unpack {name}: needs "
                    f"{needed / MB:.0f} MB, {free / MB:.0f} MB free"
                )
            zf.extractall(into)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise IvrError(f"{url}: not a valid zip file: {exc}") from None
    except OSError as exc:
        raise IvrError(f"{into.parent}: cannot unpack {name}: {exc.strerror or exc}") from None
    return into / name


def check_model_name(name: str) -> None:
    """Raise IvrError unless `name` can be an official model's name (no path, no `.zip`)."""
    if not _NAME_RE.match(name) or name.lower().endswith(".zip"):
        raise IvrError(
            f"invalid model name {name!r}: give a name like {DEFAULT_MODEL} (no path, no .zip)"
        )


def fetch_model(
    name: str,
    dest_dir: str | Path | None = None,
    progress: ProgressCallback | None = None,
    *,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
    base_url: str = MODEL_BASE_URL,
) -> Path:
    """Download the official model `name` into `dest_dir/<name>/` (default: audio_models/).

    The zip is downloaded to a temporary file in `dest_dir` (`progress(bytes_done,
    bytes_total)` is called as it arrives), checked (a valid zip whose single top folder is
    `name`, holding a complete model), unpacked into a temporary folder and renamed into place
    in one step, so `dest_dir/<name>/` never holds half a model. Temporary files are removed
    whatever happens. A model already in place is returned as it is, without a download.
    `timeout_s` (seconds) bounds each wait for the server. Raises IvrError with one line.
    """
    check_model_name(name)
    dest = Path(dest_dir).expanduser() if dest_dir is not None else models_dir()
    target = dest / name
    if target.exists() or target.is_symlink():
        problems = check_model(target)
        if not problems:
            return target
        raise IvrError(
            f"{target}: already there but not a usable model ({'; '.join(problems)}); "
            "remove it and fetch again"
        )
    url = model_url(name, base_url)
    try:
        dest.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".zip.part", dir=dest)
    except OSError as exc:
        raise IvrError(f"{dest}: cannot write a model here: {exc.strerror or exc}") from None
    archive = Path(tmp)
    unpack_dir: Path | None = None
    try:
        try:
            with os.fdopen(fd, "wb") as out:
                _download(url, out, progress, timeout_s)
        except _DownloadFailed as exc:
            raise IvrError(
                f"cannot download {name} from {url}: {exc}; "
                f"download it elsewhere and unzip it into {dest}/"
            ) from None
        except OSError as exc:
            raise IvrError(f"{archive}: cannot save the download: {exc.strerror or exc}") from None
        unpack_dir = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".unpack", dir=dest))
        model = _unpack(archive, name, unpack_dir, url)
        problems = check_model(model)
        if problems:
            raise IvrError(f"{url}: the archive holds no usable model: {'; '.join(problems)}")
        try:
            os.rename(model, target)
        except OSError as exc:
            raise IvrError(
                f"{target}: cannot move the unpacked model into place: {exc.strerror or exc}"
            ) from None
    finally:
        archive.unlink(missing_ok=True)
        if unpack_dir is not None:
            shutil.rmtree(unpack_dir, ignore_errors=True)
    return target
