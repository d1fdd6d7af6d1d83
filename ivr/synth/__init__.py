"""Labelled test calls: callee speech, line noise and telephone channels, with a manifest.

`corpus` builds and writes calls from explicit `CallSpec`s; `manifest` reads the labels back.
"""

from ivr.corpus.manifest import Manifest, ManifestError, load_manifest
from ivr.synth.corpus import (
    CallSpec,
    RenderedCall,
    Utterance,
    generate,
    random_specs,
    render_call,
    sample_specs,
    write_corpus,
)
from ivr.synth.levels import active_level_dbfs, rms_dbfs
from ivr.synth.speech import RecordingsMissingError

__all__ = [
    "CallSpec",
    "Manifest",
    "ManifestError",
    "RecordingsMissingError",
    "RenderedCall",
    "Utterance",
    "active_level_dbfs",
    "generate",
    "load_manifest",
    "random_specs",
    "render_call",
    "rms_dbfs",
    "sample_specs",
    "write_corpus",
]
