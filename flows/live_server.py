"""``posegraph live --serve``: one page that uses the browser's camera, and a WebSocket that
analyses its frames live (FastAPI and uvicorn, installed with Prefect).

The page (``live_page/``: plain HTML, JavaScript and CSS, all served from here, nothing from a
CDN) sends a frame at a time (JPEG, at most ``fps`` a second, the next only when the answer to the
last has come back: frames the camera makes meanwhile are skipped on purpose and counted on the
page) and draws the skeleton and the state it gets back. One connection is one
:class:`~posegraph.app.live.LiveSession` on a thread of its own; when the page stops (or closes,
or goes idle, or the server stops), the session is analysed whole and, with ``out``, its report
written as ``analyse --out`` writes it.

Messages. Page -> server: binary, 8 bytes little-endian float64 (the frame's time in seconds since
the camera started), then the JPEG; or the text ``stop``. Server -> page: JSON text with a
``type``: ``hello`` (the skeleton's edges), ``frame`` (``landmarks`` as [x, y, visibility] or
null, ``state``, ``events``: the session's events of this frame), ``end`` (``exercise``,
``count``, ``mean_score``, ``files``, ``ended``) or ``error`` (``error``: a sentence for the person;
the frame was dropped and the session goes on). Every message gets one answer. The server closes a
connection with a reason the page shows: 1013 when it is full, 1000 when the session ended (idle
or stopped), 1001 when the server shuts down. What it refuses: :mod:`.live_limits`.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import uvicorn
# at module level: FastAPI reads the handlers' annotations (``WebSocket``) from this module's names
from fastapi import FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, Response

from .live_limits import SHUTDOWN_S, ServerLimits

PAGE = Path(__file__).with_name("live_page")
PAGE_FILES = {"": ("index.html", "text/html"), "live.js": ("live.js", "text/javascript"),
              "live.css": ("live.css", "text/css"), "favicon.ico": ("favicon.svg", "image/svg+xml")}
FINISH_S = 3.5  # a session's whole analysis and report: at shutdown, what is left of SHUTDOWN_S
FULL, ENDED, GOING_AWAY = 1013, 1000, 1001  # WebSocket close codes: try again later, normal, server going away


class _Worker:
    """One session's thread: calls run one at a time, in order. A daemon thread, so a call that
    never returns cannot hold the server's exit (the interpreter does not wait for it)."""

    def __init__(self, name: str) -> None:
        self.calls: queue.SimpleQueue = queue.SimpleQueue()
        self.busy = False
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def submit(self, function: Callable, *arguments) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.calls.put((loop, future, function, arguments))
        return future

    def close(self) -> None:
        self.calls.put(None)

    def _run(self) -> None:
        while (call := self.calls.get()) is not None:
            loop, future, function, arguments = call
            self.busy = True
            try:
                outcome, value = "result", function(*arguments)
            except BaseException as error:  # noqa: BLE001 - handed to the session, which answers it
                outcome, value = "exception", error
            finally:
                self.busy = False
            try:
                loop.call_soon_threadsafe(_settle, future, outcome, value)
            except RuntimeError:  # the loop has closed: the server is gone
                return


def _settle(future: asyncio.Future, outcome: str, value) -> None:
    if not future.done():
        getattr(future, f"set_{outcome}")(value)


class _Connection:
    """One page's session: its frame loop (:class:`~posegraph.app.live_loop.LiveFeed`) on a thread of its own."""

    def __init__(self, analyser, fps: float, reject: bool, number: int, limits: ServerLimits) -> None:
        from posegraph.app.live import LiveSettings
        from posegraph.app.live_loop import LiveFeed
        from posegraph.skeleton.frame_input import FrameClock

        self.limits = limits
        self.name = f"browser-{number}"
        self.worker = _Worker(self.name)
        self.live = LiveFeed(analyser, self.name, LiveSettings(fps=fps), reject,
                             clock=FrameClock(max_ahead_s=limits.max_ahead_s))
        self.index = 0
        self.abandoned = 0  # frames that took longer than limits.frame_timeout_s
        self.dropped = 0  # frames refused (their time or image) or dropped while an abandoned one ran

    def frame(self, payload: bytes) -> dict:
        from posegraph.skeleton.frame_input import decode_frame_message

        read_at = time.monotonic()
        t_s, image = decode_frame_message(payload, self.limits.max_frame_pixels, self.live.clock)
        landmarks, events = self.live.feed(image, t_s, self.index, read_at)
        self.index += 1
        points = None if landmarks is None else [[round(float(v), 4) for v in (x, y, vis)]
                                                  for x, y, _, vis in landmarks]
        return {"type": "frame", "t_s": round(t_s, 3), "landmarks": points, "state": self.live.session.state(),
                "events": events, "frames": self.index}

    def finish(self, ended: str, out: str | None, held: bool = False) -> dict:
        """The session's ``end`` message (and report with ``out``); ``held``: an abandoned frame still
        holds BlazePose on the session's own thread (this runs on another), so it is left be."""
        counts = {"frames_refused": self.dropped, "frames_abandoned": self.abandoned}
        if self.live.session is None:
            return {"type": "end", "ended": ended, "count": 0, "exercise": None, "error": "no frame arrived",
                    **counts}
        result = self.live.finish(ended, self.dropped + self.abandoned, release=not held)
        if result.report is None:
            return {"type": "end", "ended": ended, "count": 0, "exercise": None, "error": result.error, **counts}
        report = result.report.with_live(replace(result.report.live, frames_refused=self.dropped,
                                                 frames_abandoned=self.abandoned))
        end = {"type": "end", "ended": ended, "exercise": report.exercise.answer, "rejected": report.exercise.rejected,
               "count": report.count, "mean_score": report.mean_score, "cues": [cue.text for cue in report.cues],
               **counts}
        if out:
            from posegraph.scoring.analysis_html import write_analysis_outputs

            end["files"] = write_analysis_outputs(report, out, self.name)
        return end


class _Sessions:
    """The server's open sessions, its limits, and the event that tells them all to end."""

    def __init__(self, limits: ServerLimits) -> None:
        self.limits = limits
        self.open: set[_Connection] = set()
        self.started = self.refused = 0
        self.stopping: asyncio.Event | None = None  # made in the server's loop, on first use
        self.loop: asyncio.AbstractEventLoop | None = None

    def stop_event(self) -> asyncio.Event:
        if self.stopping is None:
            self.stopping, self.loop = asyncio.Event(), asyncio.get_running_loop()
        return self.stopping

    def stop_all(self) -> None:
        """Tell every session to end (safe from a signal handler or another thread)."""
        if self.stopping is not None and self.loop is not None:
            try:
                self.loop.call_soon_threadsafe(self.stopping.set)
            except RuntimeError:  # the loop has closed already
                pass


def create_app(bundle: str | Path, out: str | None = None, fps: float = 16.0, reject: bool = True,
               runtime: str = "torch", limits: ServerLimits = ServerLimits()):
    """The FastAPI application: ``GET /`` (the page), its script and style, ``WS /ws``.
    ``app.state.sessions`` holds the open sessions (:class:`_Sessions`)."""
    from posegraph.app.analysis import Analyser
    from posegraph.skeleton.layouts import BLAZEPOSE33

    analyser = Analyser.load(bundle, runtime)
    app = FastAPI(title="posegraph live")
    sessions = app.state.sessions = _Sessions(limits)
    hello = json.dumps({"type": "hello", "edges": [list(edge) for edge in BLAZEPOSE33.edges], "fps": fps,
                        "limits": {"max_sessions": limits.max_sessions, "stall_s": limits.stall_s,
                                   "frame_timeout_s": limits.frame_timeout_s,
                                   "max_frame_pixels": limits.max_frame_pixels}})

    @app.get("/", response_class=HTMLResponse)
    def page() -> Response:
        return _file("")

    @app.get("/{name}")
    def asset(name: str) -> Response:
        return _file(name)

    @app.websocket("/ws")
    async def analyse_frames(socket: WebSocket) -> None:
        await socket.accept()
        stopping = sessions.stop_event()
        if len(sessions.open) >= limits.max_sessions or stopping.is_set():
            sessions.refused += 1
            reason = ("the server is shutting down" if stopping.is_set() else
                      f"the server is full ({limits.max_sessions} session{'s' if limits.max_sessions != 1 else ''} at "
                      f"once); try again in a minute")
            await socket.close(code=FULL, reason=reason)
            return
        sessions.started += 1
        connection = _Connection(analyser, fps, reject, sessions.started, limits)
        sessions.open.add(connection)
        try:
            await _run_session(socket, connection, sessions, hello, out)
        finally:
            sessions.open.discard(connection)
            connection.worker.close()

    return app


async def _run_session(socket: WebSocket, connection: _Connection, sessions: _Sessions, hello: str,
                       out: str | None) -> None:
    """Answer every message of one connection until it ends, then finish the session (its report)."""
    limits = sessions.limits
    await socket.send_text(hello)
    ended, code, running = "the page stopped", ENDED, None  # running: an abandoned frame still being analysed
    try:
        while True:
            message = await _next_message(socket, sessions.stop_event(), limits.stall_s)
            if message is None:
                ended, code = "the server is shutting down", GOING_AWAY
                break
            if message == "idle":
                ended = f"no frame arrived for {limits.stall_s:g} s"
                break
            if message.get("type") == "websocket.disconnect":
                ended, code = "the page closed", None
                break
            if message.get("text") == "stop":
                break
            running, reply = await _answer(connection, message, running, limits)
            await socket.send_text(json.dumps(reply))
    except WebSocketDisconnect:
        ended, code = "the page closed", None
    end = await _finish(connection, ended, out)
    print(f"posegraph live: {connection.name}: {ended}; {end['count']} repetitions"
          + (f"; report {end['files']['html']}" if end.get("files") else ""), file=sys.stderr, flush=True)
    if code is not None:
        try:
            await socket.send_text(json.dumps(end))
            await socket.close(code=code, reason=ended[:120])  # a close reason is at most 123 bytes
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the page went away meanwhile: the report is written all the same


async def _next_message(socket: WebSocket, stopping: asyncio.Event, stall_s: float) -> dict | str | None:
    """The next message, ``"idle"`` after ``stall_s`` without one, or None when the server stops."""
    receive = asyncio.ensure_future(socket.receive())
    stop = asyncio.ensure_future(stopping.wait())
    done, _ = await asyncio.wait({receive, stop}, timeout=stall_s, return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    if receive in done:
        return receive.result()
    receive.cancel()
    return None if stop in done else "idle"


async def _answer(connection: _Connection, message: dict, running: asyncio.Future | None,
                  limits: ServerLimits) -> tuple[asyncio.Future | None, dict]:
    """One message's answer, and the abandoned frame still running (or None)."""
    if message.get("bytes") is None:
        connection.dropped += 1
        return running, {"type": "error", "error": "unknown message: send frames (8 bytes of time, then a JPEG) "
                                                   "or the text 'stop'"}
    if running is not None and not running.done():
        connection.dropped += 1
        return running, {"type": "error", "error": f"still analysing an earlier frame that took over "
                                                   f"{limits.frame_timeout_s:g} s; this frame is dropped"}
    future = connection.worker.submit(connection.frame, message["bytes"])
    try:
        return None, await asyncio.wait_for(asyncio.shield(future), limits.frame_timeout_s)
    except TimeoutError:
        connection.abandoned += 1
        return future, {"type": "error", "error": f"this frame took more than {limits.frame_timeout_s:g} s and was "
                                                  f"abandoned ({connection.abandoned} so far); the server is "
                                                  f"overloaded, or the frame is too large"}
    except ValueError as error:  # the frame's time or image, refused at the door: a sentence for the person
        connection.dropped += 1
        return None, {"type": "error", "error": str(error)}
    except Exception as error:  # noqa: BLE001 - one frame must not end the session, nor the server
        connection.dropped += 1
        return None, {"type": "error", "error": f"the server could not analyse this frame "
                                                f"({type(error).__name__}: {error}); it was dropped"}


async def _finish(connection: _Connection, ended: str, out: str | None) -> dict:
    """The session analysed whole (and its report written), on its own thread; on a fresh one
    when its thread is still held by an abandoned frame. Bounded by :data:`FINISH_S`."""
    if connection.worker.busy:
        finishing = _Worker(f"{connection.name}-finish")
        future = finishing.submit(connection.finish, ended, out, True)
        finishing.close()
    else:
        future = connection.worker.submit(connection.finish, ended, out)
    try:
        return await asyncio.wait_for(asyncio.shield(future), FINISH_S)
    except TimeoutError:
        return {"type": "end", "ended": ended, "count": 0, "exercise": None,
                "error": f"the session's analysis took more than {FINISH_S:g} s; no report"}
    except Exception as error:  # noqa: BLE001 - the server goes on; the person is told
        return {"type": "end", "ended": ended, "count": 0, "exercise": None,
                "error": f"the session could not be analysed ({type(error).__name__}: {error})"}


def _file(name: str) -> Response:
    if name not in PAGE_FILES:
        raise HTTPException(status_code=404, detail=f"{name}: not part of the live page")
    file, media = PAGE_FILES[name]
    return Response((PAGE / file).read_bytes(), media_type=media, headers={"Cache-Control": "no-store"})


def serve(bundle: str | Path, host: str = "127.0.0.1", port: int = 8765, out: str | None = None,
          fps: float = 16.0, reject: bool = True, runtime: str = "torch",
          limits: ServerLimits = ServerLimits()) -> int:
    """Serve the page until Ctrl-C or SIGTERM; then every open session ends and writes its report,
    within :data:`~.live_limits.SHUTDOWN_S` whatever the sessions are doing."""
    app = create_app(bundle, out, fps, reject, runtime, limits)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", ws_max_size=8 * 1024 * 1024,
                            timeout_graceful_shutdown=FINISH_S + 0.5)
    server = _Server(config, app.state.sessions)
    print(f"posegraph live: open http://{host}:{port}/ in a browser (the camera works on localhost or over "
          f"HTTPS); at most {limits.max_sessions} sessions at once; Ctrl-C stops", file=sys.stderr, flush=True)
    server.run()
    return 0


class _Server(uvicorn.Server):
    """uvicorn's server, made to stop in time: the first Ctrl-C or SIGTERM tells every session to
    end (each writes its report), and a deadline ends the process at :data:`SHUTDOWN_S` whatever
    is still running."""

    def __init__(self, config: uvicorn.Config, sessions: _Sessions) -> None:
        super().__init__(config)
        self.sessions = sessions

    async def shutdown(self, sockets=None) -> None:
        """Let the sessions end first (each sends its ``end`` and writes its report): uvicorn's own
        shutdown closes every connection at once (code 1012), before a session could say goodbye."""
        deadline = time.monotonic() + FINISH_S + 0.2
        while self.sessions.open and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await super().shutdown(sockets)

    def handle_exit(self, sig: int, frame: object) -> None:
        first = not self.should_exit
        super().handle_exit(sig, frame)
        if first:
            self.sessions.stop_all()
            threading.Thread(target=_exit_at_deadline, name="posegraph-live-deadline", daemon=True).start()


def _exit_at_deadline() -> None:
    time.sleep(SHUTDOWN_S - 0.3)
    print(f"posegraph live: still stopping after {SHUTDOWN_S - 0.3:g} s; exiting now", file=sys.stderr, flush=True)
    os._exit(0)
