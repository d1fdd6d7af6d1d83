"""The front end's compiled loops (ivr/detect/_kernels.c): the speech band and the high-pass
over whole blocks of frames, and webrtcvad's own C function called frame after frame without
Python in between. `pip install -e .` (and so `make setup`) builds them with gcc."""

from __future__ import annotations

import functools
from types import ModuleType


@functools.cache
def kernels() -> ModuleType:
    """The compiled module, loaded once; ImportError saying how to build it when it is not."""
    try:
        from ivr.detect import _kernels
    except ImportError as exc:
        raise ImportError(
            "ivr's compiled front-end loops (ivr/detect/_kernels.c) are not built: "
            "run `make setup` or `pip install -e .` (it needs a C compiler, gcc)"
        ) from exc
    return _kernels
