"""Group commit: videos that finish close together share one store commit.

A flow whose workers finish many videos a second would otherwise make one commit per video
(each a Delta log entry and a small file per table). A background thread writes what has
arrived: it waits at most ``linger_seconds`` after the first pending video for others to join
(so a slow corpus still commits each video within that delay, and at most that much finished
work is lost to a ``kill -9``), and never more than ``max_videos`` at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .records import Skeletons, VideoInfo
from .store import SkeletonStore

LINGER_SECONDS = 2.0
MAX_VIDEOS = 64


class GroupCommitWriter:
    """Writes the videos given to :meth:`add` into ``store`` in group commits, from one thread.

    Use as a context manager; leaving it writes what is still pending (also on Ctrl-C). Videos
    whose write failed are in :attr:`failures` (video id -> reason): a failed group is retried one
    video at a time, so one damaged file costs only the videos it concerns.

    Example:
        >>> with GroupCommitWriter(store) as writer:
        ...     writer.add(info, skeletons)
        >>> writer.failures   # {} when everything was stored
    """

    def __init__(self, store: SkeletonStore, linger_seconds: float = LINGER_SECONDS, max_videos: int = MAX_VIDEOS,
                 on_commit: Callable[[list[VideoInfo]], None] | None = None) -> None:
        if linger_seconds < 0 or max_videos < 1:
            raise ValueError("linger_seconds must be >= 0 and max_videos >= 1")
        self.store = store
        self.linger_seconds = linger_seconds
        self.max_videos = max_videos
        self.on_commit = on_commit
        self.failures: dict[str, str] = {}
        self.commits = 0
        self.stored = 0
        self._pending: list[tuple[VideoInfo, Skeletons | None]] = []
        self._first_pending_at = 0.0
        self._closing = False
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="posegraph-group-commit", daemon=True)
        self._thread.start()

    def add(self, info: VideoInfo, skeletons: Skeletons | None = None) -> None:
        """Queue one video (its row, and its skeletons unless it failed) for the next commit."""
        with self._condition:
            if self._closing:
                raise RuntimeError("this writer is closed; nothing more can be added")
            if not self._pending:
                self._first_pending_at = time.monotonic()
            self._pending.append((info, skeletons))
            self._condition.notify()

    def close(self) -> None:
        """Write everything still pending and stop the thread (closing twice does nothing more)."""
        with self._condition:
            self._closing = True
            self._condition.notify()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> GroupCommitWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _next_group(self) -> list[tuple[VideoInfo, Skeletons | None]] | None:
        """Wait until a group is due (or the writer closes with nothing left: None)."""
        with self._condition:
            while True:
                if self._pending and (self._closing or len(self._pending) >= self.max_videos
                                      or time.monotonic() - self._first_pending_at >= self.linger_seconds):
                    group, self._pending = self._pending[: self.max_videos], self._pending[self.max_videos:]
                    self._first_pending_at = time.monotonic()
                    return group
                if self._closing and not self._pending:
                    return None
                wait = None if not self._pending else \
                    max(0.0, self.linger_seconds - (time.monotonic() - self._first_pending_at))
                self._condition.wait(wait)

    def _run(self) -> None:
        while (group := self._next_group()) is not None:
            self._write(group)

    def _write(self, group: list[tuple[VideoInfo, Skeletons | None]]) -> None:
        try:
            stored = self.store.write_videos(group)
            self.commits += 1
        except Exception as error:  # noqa: BLE001 - a failed write is recorded, never loses the others
            if len(group) == 1:
                self.failures[group[0][0].video_id] = f"not stored: {error}"
                return
            stored = []
            for item in group:  # find the videos the error concerns; store the others
                try:
                    stored += self.store.write_videos([item])
                    self.commits += 1
                except Exception as single_error:  # noqa: BLE001
                    self.failures[item[0].video_id] = f"not stored: {single_error}"
        self.stored += len(stored)
        if self.on_commit is not None and stored:
            self.on_commit(stored)


__all__ = ["GroupCommitWriter", "LINGER_SECONDS", "MAX_VIDEOS"]
