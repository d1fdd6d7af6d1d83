"""The format of a labelled corpus: `manifest.yaml` beside its recordings, read by replay,
detect and tune, and written by the generator (ivr.synth).

`manifest` reads and checks a whole manifest, `labels` reads only what a consumer needs (speech
labels, expectations), `write` lays one out, and `situations` is the format's vocabulary.
"""
