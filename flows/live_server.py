"""``posegraph live --serve``: one page that uses the browser's camera, and a WebSocket that
analyses its frames live (FastAPI and uvicorn, installed with Prefect).

The page (``live_page/``: plain HTML, JavaScript and CSS, all served from here, nothing from a
CDN) sends a frame at a time (JPEG, at most ``fps`` a second, the next only when the answer to the
last has come back: frames the camera makes meanwhile are skipped on purpose and counted on the
page) and draws the skeleton and the state it gets back. One connection is one
:class:`~posegraph.gcn.live.LiveSession`; when the page stops (or closes), the session is analysed
whole and, with ``out``, its report written as ``analyse --out`` writes it.

Messages. Page -> server: binary, 8 bytes little-endian float64 (the frame's time in seconds since
the camera started), then the JPEG; or the text ``stop``. Server -> page: JSON text with a
``type``: ``hello`` (the skeleton's edges), ``frame`` (``landmarks`` as [x, y, visibility] or
null, ``state``, ``events``: the session's events of this frame), ``end`` (``exercise``,
``count``, ``mean_score``, ``files``, ``ended``) or ``error``.
"""

from __future__ import annotations

import asyncio
import json
import struct
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# at module level: FastAPI reads the handlers' annotations (``WebSocket``) from this module's names
from fastapi import FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, Response

PAGE = Path(__file__).with_name("live_page")
PAGE_FILES = {"": ("index.html", "text/html"), "live.js": ("live.js", "text/javascript"),
              "live.css": ("live.css", "text/css"), "favicon.ico": ("favicon.svg", "image/svg+xml")}


class _Connection:
    """One page's session: BlazePose and the live services on a thread of their own."""

    def __init__(self, analyser, fps: float, reject: bool, number: int) -> None:
        from posegraph.gcn.live import LiveSettings
        from posegraph.skeleton.blazepose import BlazePoseExtractor

        self.analyser, self.settings, self.reject = analyser, LiveSettings(fps=fps), reject
        self.name = f"browser-{number}"
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name)
        self.landmarker = BlazePoseExtractor(target_fps=fps).landmarker()
        self.detect = None
        self.session = None
        self.index = 0

    def frame(self, payload: bytes) -> dict:
        import time

        import cv2
        import numpy as np

        from posegraph.gcn.live import LiveSession

        read_at = time.monotonic()
        if len(payload) < 9:
            raise ValueError("a frame message is 8 bytes of time, then a JPEG")
        (t_s,) = struct.unpack("<d", payload[:8])
        image = cv2.imdecode(np.frombuffer(payload[8:], np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError("the frame is not a JPEG this server can decode")
        if self.detect is None:
            self.detect = self.landmarker.__enter__()
            self.session = LiveSession(self.analyser, self.name, self.settings, self.reject,
                                       (image.shape[1], image.shape[0]))
        landmarks = self.detect(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), t_s)
        events = self.session.update(landmarks, t_s, self.index, read_at)
        self.index += 1
        points = None if landmarks is None else [[round(float(v), 4) for v in (x, y, vis)]
                                                  for x, y, _, vis in landmarks]
        return {"type": "frame", "t_s": round(t_s, 3), "landmarks": points, "state": self.session.state(),
                "events": events, "frames": self.index}

    def finish(self, ended: str, out: str | None) -> dict:
        if self.detect is not None:
            self.landmarker.__exit__(None, None, None)
            self.detect = None
        if self.session is None:
            return {"type": "end", "ended": ended, "count": 0, "exercise": None, "error": "no frame arrived"}
        result = self.session.finish(ended)
        document = result.document
        if document is None:
            return {"type": "end", "ended": ended, "count": 0, "exercise": None, "error": result.error}
        end = {"type": "end", "ended": ended, "exercise": document["exercise"]["answer"],
               "rejected": document["exercise"]["rejected"], "count": document["count"],
               "mean_score": (document["form"] or {}).get("mean_score"),
               "cues": [cue["text"] for cue in document["cues"]]}
        if out:
            from posegraph.scoring.analysis_html import write_analysis_outputs

            end["files"] = write_analysis_outputs(document, out, self.name)
        return end


def create_app(bundle: str | Path, out: str | None = None, fps: float = 16.0, reject: bool = True,
               runtime: str = "torch"):
    """The FastAPI application: ``GET /`` (the page), its script and style, ``WS /ws``."""
    from posegraph.gcn.analysis import Analyser
    from posegraph.skeleton.layouts import BLAZEPOSE33

    analyser = Analyser.load(bundle, runtime)
    app = FastAPI(title="posegraph live")
    connections = [0]

    @app.get("/", response_class=HTMLResponse)
    def page() -> Response:
        return _file("")

    @app.get("/{name}")
    def asset(name: str) -> Response:
        return _file(name)

    @app.websocket("/ws")
    async def analyse_frames(socket: WebSocket) -> None:
        await socket.accept()
        connections[0] += 1
        connection = _Connection(analyser, fps, reject, connections[0])
        loop = asyncio.get_running_loop()
        await socket.send_text(json.dumps({"type": "hello", "edges": [list(edge) for edge in BLAZEPOSE33.edges],
                                           "fps": fps}))
        ended = "the page stopped"
        try:
            while True:
                message = await socket.receive()
                if message.get("type") == "websocket.disconnect":
                    ended = "the page closed"
                    break
                if message.get("text") == "stop":
                    break
                if message.get("bytes") is None:
                    continue
                try:
                    reply = await loop.run_in_executor(connection.executor, connection.frame, message["bytes"])
                except ValueError as error:
                    reply = {"type": "error", "error": str(error)}
                await socket.send_text(json.dumps(reply))
        except WebSocketDisconnect:
            ended = "the page closed"
        end = await loop.run_in_executor(connection.executor, connection.finish, ended, out)
        connection.executor.shutdown(wait=False)
        print(f"posegraph live: {connection.name}: {ended}; {end['count']} repetitions"
              + (f"; report {end['files']['html']}" if end.get("files") else ""), file=sys.stderr, flush=True)
        if ended != "the page closed":
            await socket.send_text(json.dumps(end))
            await socket.close()

    return app


def _file(name: str) -> Response:
    if name not in PAGE_FILES:
        raise HTTPException(status_code=404, detail=f"{name}: not part of the live page")
    file, media = PAGE_FILES[name]
    return Response((PAGE / file).read_bytes(), media_type=media, headers={"Cache-Control": "no-store"})


def serve(bundle: str | Path, host: str = "127.0.0.1", port: int = 8765, out: str | None = None,
          fps: float = 16.0, reject: bool = True, runtime: str = "torch") -> int:
    """Serve the page until Ctrl-C."""
    import uvicorn

    app = create_app(bundle, out, fps, reject, runtime)
    print(f"posegraph live: open http://{host}:{port}/ in a browser (the camera works on localhost or over "
          f"HTTPS); Ctrl-C stops", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", ws_max_size=8 * 1024 * 1024)
    return 0
