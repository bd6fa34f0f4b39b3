"""The models: the bundled embedding weights converted, exported to ONNX and run; the reader tuned from them."""
from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator


@contextlib.contextmanager
def announced(what: str) -> Iterator[None]:
    """One line on stderr for a slow step done once: what it does as it starts, its time when done
    ("converting the bundled model into DIR (once): 12.3 s"), so a first start is never silent."""
    print(f"{what}: ", end="", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        print(f"failed after {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        raise
    print(f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
