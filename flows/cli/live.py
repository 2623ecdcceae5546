"""``posegraph live`` (people exercising, through coaches and apps): feedback while the person is
still exercising, from a camera, a network stream or a file; or ``--serve``, a page in the browser
that uses the device's camera."""

from __future__ import annotations

import argparse
import json
import sys


def command_live(arguments: argparse.Namespace) -> int:
    """JSON lines on stdout while the source runs, then an ``end`` line (and the report with --out).
    Exit 0 when the session produced a report, 1 when nothing could be analysed."""
    from posegraph.app.live import LiveSettings
    from posegraph.skeleton.stream import check_live_source
    from posegraph.skeleton.video import VideoError

    if arguments.serve:
        from posegraph.flows.live_limits import ServerLimits

        limits = ServerLimits(max_sessions=arguments.max_sessions, stall_s=arguments.stall_s,
                              frame_timeout_s=arguments.frame_timeout_s)
        from posegraph.flows.live_server import serve

        return serve(arguments.bundle, arguments.host, arguments.port, arguments.out, arguments.fps,
                     reject=arguments.reject, runtime=arguments.runtime, limits=limits)
    if arguments.source is None:
        raise ValueError("give --source (a camera number, a URL or a video file) or --serve")
    try:
        check_live_source(arguments.source)
    except VideoError as error:
        raise ValueError(str(error)) from None
    from posegraph.app.analysis import Analyser
    from posegraph.app.live_loop import run_live

    analyser = Analyser.load(arguments.bundle, arguments.runtime)
    show = _Screen(arguments.show, arguments.record, arguments.fps)
    try:
        result = run_live(analyser, arguments.source, _print_event, LiveSettings(fps=arguments.fps),
                          realtime=arguments.realtime, reject=arguments.reject, stall_s=arguments.stall_s,
                          on_frame=show.frame if show.wanted else None)
    except VideoError as error:
        raise ValueError(str(error)) from None
    finally:
        recording = show.close()
    return _report(result, arguments, recording)


def _print_event(event: dict) -> None:
    print(json.dumps(event), flush=True)


def _report(result, arguments: argparse.Namespace, recording) -> int:
    """The ``end`` line, the report files with --out, and one line on stderr saying how it ended."""
    report = result.report
    end = {"type": "end", "t_s": report.duration_s if report else None,
           "ended": report.live.ended if report else result.error}
    if report is not None:
        end.update(exercise=report.exercise.answer, rejected=report.exercise.rejected, count=report.count,
                   mean_score=report.mean_score)
        if arguments.out:
            from posegraph.scoring.analysis_html import write_analysis_outputs

            video_format = arguments.video_format if result.source.source_path else "none"
            end["files"] = write_analysis_outputs(report, arguments.out, _name(arguments.source), result.form,
                                                  result.source, video_format)
    if recording is not None:
        end["recording"] = str(recording)
    print(json.dumps(end), flush=True)
    if report is None:
        print(f"posegraph live: {result.error}; nothing to report", file=sys.stderr)
        return 1
    live = report.live
    print(f"posegraph live: {live.ended}; {report.count} repetitions, {live.frames} frames with a "
          f"person, {live.frames_dropped} dropped" + (f"; report in {arguments.out}" if arguments.out else ""),
          file=sys.stderr)
    return 0


def _name(source: str) -> str:
    """The report folder's name: a file's stem, ``camera0``, or the stream's host and port."""
    from pathlib import Path

    if source.isdigit():
        return f"camera{source}"
    if "://" in source:
        return "stream-" + "".join(c if c.isalnum() else "-" for c in source.split("://", 1)[1]).strip("-")[:40]
    return Path(source).stem


class _Screen:
    """The optional window (--show) and recording (--record) of the annotated stream."""

    def __init__(self, show: bool, record: str | None, fps: float) -> None:
        self.show, self.wanted = show, show or bool(record)
        self.recorder = None
        if record:
            from posegraph.skeleton.render import VideoRecorder

            self.recorder = VideoRecorder(record, fps)

    def frame(self, frame, landmarks, session) -> None:
        import cv2

        from posegraph.app.live_loop import annotate

        image = annotate(frame.image, landmarks, session)
        if self.recorder is not None:
            self.recorder.write(image)
        if self.show:
            try:
                cv2.imshow("posegraph live", image)
                cv2.waitKey(1)
            except cv2.error:
                self.show = False
                print("posegraph live: no window can open here (no display, or an OpenCV without one); "
                      "going on without --show", file=sys.stderr)

    def close(self):
        if self.show:
            import cv2

            cv2.destroyAllWindows()
        return self.recorder.close() if self.recorder is not None else None


def register(commands: argparse._SubParsersAction) -> None:
    from posegraph.flows.live_limits import MOST_SESSIONS, SESSION_MB, ServerLimits, default_max_sessions

    live = commands.add_parser(
        "live", help="feedback while exercising: exercise, repetitions, form and cues as frames arrive",
        description="Reads a camera, a network stream (rtsp/udp/rtp/http) or a file frame by frame through "
                    "BlazePose and prints JSON lines: one per repetition, exercise change and cue, and a status "
                    "every second (each with its type and source time t_s); then an 'end' line. With --out, the "
                    "session's report as posegraph analyse --out writes it. --serve starts a page in the browser "
                    "that uses the device's camera instead; it refuses pages beyond --max-sessions, frames whose "
                    "time is not finite, goes back or jumps over a minute ahead, and images over 16.8 megapixels, "
                    "each with a reason the page shows, and stops within 5 s on Ctrl-C or SIGTERM, reports written.")
    live.add_argument("--bundle", required=True, help="an analysis bundle folder (posegraph bundle build)")
    live.add_argument("--source", help="0 (first camera), rtsp://..., udp://HOST:PORT, http://..., or a video file")
    live.add_argument("--realtime", action="store_true",
                      help="read a file at its own frame rate (frames are dropped when processing falls behind), "
                           "not as fast as possible")
    live.add_argument("--fps", type=float, default=16.0,
                      help="frames per second analysed (default 16, the extraction's: the report then equals "
                           "posegraph analyse's)")
    live.add_argument("--out", help="folder for the session's report (analysis.json, report.html) when it ends")
    live.add_argument("--video-format", default="none", choices=("mp4", "gif", "none"),
                      help="with --out and a file source: also the overlay video, as analyse writes it")
    live.add_argument("--record", metavar="FILE.mp4", help="record the annotated stream (skeleton, count, cue)")
    live.add_argument("--show", action="store_true", help="show the annotated stream in a window")
    live.add_argument("--stall-s", type=float, default=5.0,
                      help="end the session when no frame arrives for this long (default 5 s); with --serve, "
                           "an idle page's session is closed and its report written")
    live.add_argument("--no-reject", dest="reject", action="store_false",
                      help="always name the closest exercise, never 'none of these'")
    live.add_argument("--runtime", default="torch", choices=("torch", "onnx"),
                      help="onnx: the bundle exported with posegraph export --format onnx, without torch")
    live.add_argument("--serve", action="store_true",
                      help="serve a page that uses the browser's camera (http://HOST:PORT; works offline)")
    live.add_argument("--host", default="127.0.0.1", help="with --serve: the address to listen on (default 127.0.0.1)")
    live.add_argument("--port", type=int, default=8765, help="with --serve: the port (default 8765)")
    sessions = default_max_sessions()
    live.add_argument("--max-sessions", type=int, default=sessions,
                      help=f"with --serve: pages served at once; one more is refused with a reason the page shows "
                           f"(default {sessions}: half the memory available now at {SESSION_MB} MB a session, "
                           f"at most {MOST_SESSIONS})")
    live.add_argument("--frame-timeout-s", type=float, default=ServerLimits.frame_timeout_s,
                      help=f"with --serve: a frame taking longer is abandoned and counted, not waited on "
                           f"(default {ServerLimits.frame_timeout_s:g} s)")
    live.set_defaults(run=command_live)
