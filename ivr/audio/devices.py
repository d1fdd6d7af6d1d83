"""Sound devices: listing them and choosing one (the stream of a live call:
ivr.transports.sounddevice).

`sounddevice` is imported only when a device is used: it starts PortAudio at import.
"""

from __future__ import annotations

from typing import Any

from ivr.errors import DeviceError


def sounddevice_module() -> Any:
    """sounddevice, imported now; DeviceError when PortAudio is missing."""
    try:
        import sounddevice
    except OSError as exc:  # PortAudio library missing
        raise DeviceError(
            f"no audio system: {exc}; install libportaudio2, or replay recordings with ivr replay"
        ) from None
    return sounddevice


def list_devices() -> list[dict[str, Any]]:
    """Every device: index, name, host API, input and output channels, default rate (Hz)."""
    sd = sounddevice_module()
    apis = sd.query_hostapis()
    out = []
    for index, dev in enumerate(sd.query_devices()):
        out.append(
            {
                "index": index,
                "name": dev["name"],
                "hostapi": apis[dev["hostapi"]]["name"],
                "inputs": dev["max_input_channels"],
                "outputs": dev["max_output_channels"],
                "rate": dev["default_samplerate"],
            }
        )
    return out


def resolve_device(spec: str | None, kind: str) -> int | None:
    """A device by index or (part of its) name for `kind` "input"/"output"; None: the default.

    Raises DeviceError naming the problem and suggesting `--list-devices`."""
    sd = sounddevice_module()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as exc:
        raise DeviceError(f"cannot list audio devices: {exc}") from None
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    usable = [i for i, d in enumerate(devices) if d[key] > 0]
    if not usable:
        raise DeviceError(
            f"no audio {kind} device found: see `ivr call --list-devices`, "
            "or replay recordings with `ivr replay`"
        )
    if spec is None:
        return None
    if spec.isdigit():
        index = int(spec)
        if index not in usable:
            raise DeviceError(f"device {index} has no {kind}: see `ivr call --list-devices`")
        return index
    matches = [i for i in usable if spec.lower() in devices[i]["name"].lower()]
    if not matches:
        raise DeviceError(f"no {kind} device named {spec!r}: see `ivr call --list-devices`")
    return matches[0]
