"""What ``posegraph live --serve`` refuses, in one place (cheap to import: ``--help`` shows the defaults).

The live page is meant to be opened from a phone on the same network, so its WebSocket is an open
door. Each limit bounds what one client can cost the server:

- sessions: at most ``max_sessions`` at once; a client beyond them is told the server is full
  (close code 1013, "try again later") and the sessions already running are untouched;
- idle: a session that sends no frame for ``stall_s`` seconds is closed, and its report written;
- time: a frame's time is checked at the door (:class:`~posegraph.skeleton.frame_input.FrameClock`:
  finite, never backwards, at most ``max_ahead_s`` after the previous frame);
- size: a frame's image header is read before it is decoded; more than ``max_frame_pixels`` is refused;
- work: a frame that takes more than ``frame_timeout_s`` is abandoned (answered, counted, not waited
  on); frames arriving while it still runs are dropped with an answer;
- shutdown: SIGTERM or Ctrl-C ends every session, writes its report, and exits within ``SHUTDOWN_S``.
"""

from __future__ import annotations

from dataclasses import dataclass

from posegraph.skeleton.frame_input import MAX_AHEAD_S, MAX_FRAME_PIXELS

# One session's memory: its own BlazePose graph, thread and frames. Measured 2026-12-07: 24 sessions
# of one frame each took the server from about 0.3 GB to 3.1 GB, about 130 MB each
# (benchmarks/live_server.py re-measures it).
SESSION_MB = 130
MOST_SESSIONS = 8  # 2 cores analyse about 8-15 frames a second each: more sessions only starve each other
SHUTDOWN_S = 5.0  # SIGTERM or Ctrl-C to exit, reports included


def default_max_sessions() -> int:
    """Sessions that fit half of the memory available now (at :data:`SESSION_MB` each), 1 to
    :data:`MOST_SESSIONS`."""
    try:
        import psutil

        available_mb = psutil.virtual_memory().available / 2**20
    except (ImportError, OSError):
        return 2
    return int(min(MOST_SESSIONS, max(1, available_mb / 2 // SESSION_MB)))


@dataclass(frozen=True)
class ServerLimits:
    """The live server's limits (module docstring); seconds and pixels."""

    max_sessions: int = 4
    stall_s: float = 30.0
    frame_timeout_s: float = 3.0
    max_frame_pixels: int = MAX_FRAME_PIXELS
    max_ahead_s: float = MAX_AHEAD_S

    def __post_init__(self) -> None:
        if self.max_sessions < 1:
            raise ValueError(f"--max-sessions must be at least 1, got {self.max_sessions}")
        for name in ("stall_s", "frame_timeout_s", "max_ahead_s"):
            value = getattr(self, name)
            if not value > 0:  # NaN too
                raise ValueError(f"{name.replace('_', '-')} must be a positive number of seconds, got {value}")


__all__ = ["MOST_SESSIONS", "SESSION_MB", "SHUTDOWN_S", "ServerLimits", "default_max_sessions"]
