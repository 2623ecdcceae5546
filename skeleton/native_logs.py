"""MediaPipe's C++ core writes warnings straight to file descriptor 2, bypassing Python's logging
(five lines per video: "Feedback manager requires a model with a single signature...", "Using
NORM_RECT without IMAGE_DIMENSIONS..."). They say nothing a user can act on, so the short moments
that emit them (building a graph, its first frame) run with descriptor 2 pointed at /dev/null.
``POSEGRAPH_NATIVE_LOGS=1`` shows them again."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import TypeVar

Result = TypeVar("Result")


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Hide what native code writes to stderr while the block runs (Python's own stderr is flushed first)."""
    if os.environ.get("POSEGRAPH_NATIVE_LOGS") or not hasattr(os, "dup2"):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable descriptor 2 (e.g. closed): nothing to hide
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def wait_for_models(solution: object) -> None:
    """Block until a MediaPipe ``solutions`` graph has loaded its models. They load on the
    graph's own threads after the constructor returns, so without this TFLite's "Created TensorFlow
    Lite XNNPACK delegate" line reaches stderr after :func:`native_stderr_silenced` has ended
    (while the first video frame is read). Call it inside that block."""
    waiting = getattr(getattr(solution, "_graph", None), "wait_until_idle", None)
    if waiting is not None:
        waiting()


def silenced_until(call: Callable[..., Result], done: Callable[[Result], bool]) -> Callable[..., Result]:
    """``call`` with native stderr hidden until its first result that ``done`` accepts: MediaPipe
    warns on a graph's first frame and when its landmark model first runs (the first frame with
    a person), and says nothing after that."""
    settled = False

    def quiet(*args, **kwargs) -> Result:
        nonlocal settled
        if settled:
            return call(*args, **kwargs)
        with native_stderr_silenced():
            result = call(*args, **kwargs)
        settled = done(result)
        return result
    return quiet
