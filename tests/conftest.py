"""Shared fixtures: temporary stores, small synthetic corpora, the shared test data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from posegraph.data import SkeletonStore, Skeletons, VideoInfo

# Prefect's INFO lines at interpreter exit would hit pytest's closed capture streams.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED = REPOSITORY.parent / "shared"


@pytest.fixture
def store(tmp_path: Path) -> SkeletonStore:
    return SkeletonStore(tmp_path / "store")


def make_video(video_id: str, frames: int = 20, layout: str = "blazepose33", joints: int = 33,
               seed: int = 0, people: int = 1, label: str = "squat") -> tuple[VideoInfo, Skeletons]:
    """A random video with known values (NaN on undetected frames)."""
    random = np.random.default_rng(seed)
    values = random.random((people, frames, joints, 4)).astype(np.float32)
    detected = random.random((people, frames)) > 0.1
    detected[:, 0] = True
    values[~detected] = np.nan
    interpolated = random.random((people, frames, joints)) > 0.8
    skeletons = Skeletons(layout, values, detected, np.arange(frames) / 16.0,
                          np.arange(frames, dtype=np.int32), interpolated,
                          np.array(["rest"] * frames, dtype=object))
    return VideoInfo(video_id=video_id, layout=layout, label=label, group="s01"), skeletons


def video_id(prefix: str, number: int = 0) -> str:
    """A 64-hex-digit id starting with ``prefix`` (which picks the bucket)."""
    return (prefix + f"{number:x}").ljust(64, "0")


@pytest.fixture
def two_videos(store):
    """A store with two committed videos in bucket ``ab`` (20 and 8 frames), for derived tables."""
    store.write_videos([make_video(video_id("ab", 1), frames=20), make_video(video_id("ab", 2), frames=8)])
    return store


VIDEOS = SHARED / "testdata" / "videos"


@pytest.fixture(scope="session")
def real_videos() -> Path:
    """The real test videos in ../shared/testdata/videos (skip when absent)."""
    if not (VIDEOS / "kinetics_clean_and_jerk.mp4").exists():
        pytest.skip(f"real test videos not found in {VIDEOS} (see shared/testdata/SOURCES.md)")
    return VIDEOS


def write_clip(source: Path, target: Path, seconds: float, fps: float | None = None,
               size: tuple[int, int] | None = None) -> Path:
    """The first ``seconds`` of ``source`` re-encoded (mp4v), optionally at another fps/size."""
    import cv2

    capture = cv2.VideoCapture(str(source))
    native = capture.get(cv2.CAP_PROP_FPS)
    fps = fps or native
    width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    size = size or (width, height)
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for _ in range(int(round(seconds * fps))):
        ok, image = capture.read()
        if not ok:
            break
        writer.write(cv2.resize(image, size) if size != (width, height) else image)
    writer.release()
    capture.release()
    return target


@pytest.fixture(scope="session")
def short_clips(real_videos, tmp_path_factory) -> dict[str, Path]:
    """Two-second clips of the real videos (keeps MediaPipe time in tests small)."""
    folder = tmp_path_factory.mktemp("clips")
    return {name: write_clip(real_videos / f"{name}.mp4", folder / f"{name}.mp4", 2.0)
            for name in ("kinetics_clean_and_jerk", "kinetics_tai_chi")}


@pytest.fixture
def broken_videos(tmp_path, real_videos) -> dict[str, Path]:
    """Files that must be recorded as failed: empty, text, truncated, a folder, missing."""
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("this is not a video\n")
    data = (real_videos / "kinetics_tai_chi.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 3])
    return {path.stem: path for path in folder.iterdir()}


@pytest.fixture(scope="session")
def synthetic_store(tmp_path_factory) -> SkeletonStore:
    """Six exercises x six subjects x two takes; split by subject (s05 val, s06 test)."""
    from posegraph.data.synthetic import generate_corpus, store_records

    store = SkeletonStore(tmp_path_factory.mktemp("synthetic") / "store")
    store.write_videos(store_records(generate_corpus(subjects=6, takes=2, seed=11, repetitions=3)))
    return store


@pytest.fixture(scope="session")
def analysis_bundle(synthetic_store, tmp_path_factory) -> Path:
    """An analysis bundle (posegraph bundle build) of a one-epoch BiLSTM on the synthetic store,
    with form references fitted on its validation subject (fewer frames to cluster: quicker)."""
    from posegraph.flows.cli import main
    from posegraph.gcn.config import load_config
    from posegraph.gcn.training import train

    folder = tmp_path_factory.mktemp("analysis-bundle")
    train(load_config(None, ["epochs=1"], model="bilstm"), synthetic_store.root, folder / "run", progress=False,
          log=lambda _: None)
    assert main(["bundle", "build", "--classifier", str(folder / "run"), "--store", str(synthetic_store.root),
                 "--out", str(folder / "bundle"), "--split", "val"]) == 0
    return folder / "bundle"


@pytest.fixture
def prefect_server(tmp_path):
    """A ``prefect server start`` of its own on a free port for the test; yields ``(api URL, the
    environment of a client of it)``: its own PREFECT_HOME, this process's temporary server forgotten."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inherited = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    environment = {**inherited, "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_LOGGING_LEVEL": "WARNING",
                   "COLUMNS": "240"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=environment, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        api = f"http://127.0.0.1:{port}/api"
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{api}/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("prefect server start did not answer within 120 s")
        yield api, {**environment, "PREFECT_API_URL": api}
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)


def uncommit(store: SkeletonStore, video: str) -> None:
    """Remove a video's ``videos`` rows only, as if its writer had died before committing them."""
    import pyarrow as pa

    store.tables["videos"].replace(pa.table({}), f"video_id = '{video}'", {"posegraph.operation": "test"})


def damage(store: SkeletonStore, table: str, **partition: str) -> list[Path]:
    """Overwrite every data file of ``table`` (in ``partition``) with bytes that are not Parquet."""
    paths = [data_file.path for data_file in store.files(table, **partition)]
    for path in paths:
        path.write_bytes(b"not parquet")
    return paths
