"""The extraction flow: good videos stored, broken ones recorded, re-runs skip, runs resume."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posegraph.data import SkeletonStore
from posegraph.data.ingest import VideoJob, discover_videos
from posegraph.flows.cli import main
from posegraph.data.corpus_extraction import ExtractionOptions, extract_one
from tests.conftest import damage

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def corpus(tmp_path, short_clips, broken_videos) -> Path:
    """Two good clips (label = folder) beside an empty, a text and a truncated 'video'."""
    folder = tmp_path / "corpus"
    (folder / "weightlifting").mkdir(parents=True)
    for name, clip in short_clips.items():
        shutil.copy(clip, folder / "weightlifting" / f"{name}.mp4")
    for path in broken_videos.values():
        shutil.copy(path, folder / path.name)
    return folder


def statuses(store_path: Path) -> dict[str, tuple[str, str | None]]:
    rows = SkeletonStore(store_path).videos().to_pylist()
    return {Path(row["source_path"]).name: (row["status"], row["reason"]) for row in rows}


def test_extract_one_stores_good_and_records_broken(corpus, tmp_path):
    store = str(tmp_path / "store")
    outcomes = [extract_one(job, store, ExtractionOptions()) for job in discover_videos(corpus)]
    assert sorted(o["status"] for o in outcomes) == ["failed", "failed", "failed", "ok", "ok"]
    found = statuses(Path(store))
    assert found["empty.mp4"] == ("failed", f"{corpus / 'empty.mp4'}: empty file (0 bytes)")
    assert "cannot decode" in found["notes.mp4"][1] and found["truncated.mp4"][0] == "failed"
    row = next(r for r in SkeletonStore(store).videos().to_pylist() if r["status"] == "ok")
    assert (row["label"], row["frame_count"], row["sampled_fps"], row["width"]) == ("weightlifting", 32, 16.0, 340)
    assert row["detection_rate"] > 0.9 and row["extractor"] == "blazepose"

    again = [extract_one(job, store, ExtractionOptions()) for job in discover_videos(corpus)]
    assert {o["status"] for o in again} == {"skipped"}
    assert SkeletonStore(store).videos().num_rows == 5
    forced = extract_one(discover_videos(corpus)[-1], store, ExtractionOptions(), force=True)
    assert forced["status"] == "ok"
    other_settings = extract_one(discover_videos(corpus)[-1], store, ExtractionOptions(visibility_threshold=0.5))
    assert other_settings["status"] == "ok"  # new settings are a new cache key


def test_extraction_into_a_damaged_store_records_the_damage_and_goes_on(corpus, tmp_path):
    store = str(tmp_path / "store")
    jobs = discover_videos(corpus)
    extract_one(jobs[0], store, ExtractionOptions())
    damage(SkeletonStore(store), "videos")
    outcomes = [extract_one(job, store, ExtractionOptions()) for job in jobs]
    assert len(outcomes) == len(jobs) and {o["status"] for o in outcomes} <= {"failed", "ok"}
    damaged = [o for o in outcomes if "is damaged" in (o["reason"] or "")]
    assert damaged and all("store check" in o["reason"] and str(o["path"]) in o["reason"] for o in damaged)


def test_no_person_in_frame_is_a_failure(tmp_path):
    import cv2
    import numpy as np

    path = tmp_path / "wall.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 16, (320, 240))
    for _ in range(16):
        writer.write(np.full((240, 320, 3), 120, dtype=np.uint8))
    writer.release()
    outcome = extract_one(VideoJob(str(path)), str(tmp_path / "store"), ExtractionOptions())
    assert (outcome["status"], outcome["reason"]) == ("failed", f"{path}: no person found in any frame")


def test_manifest_labels_and_paths(tmp_path, short_clips):
    manifest = tmp_path / "manifest.csv"
    clip = short_clips["kinetics_tai_chi"]
    manifest.write_text(f"path,label,split,group\n{clip},tai_chi,train,w01\nmissing.mp4,squat,val,w02\n")
    jobs = discover_videos(manifest)
    assert jobs[0] == VideoJob(str(clip), "tai_chi", "train", "w01")
    assert jobs[1].path == str(tmp_path / "missing.mp4")
    outcome = extract_one(jobs[1], str(tmp_path / "store"), ExtractionOptions())
    assert outcome["status"] == "failed" and "no such file" in outcome["reason"]
    (tmp_path / "bad.csv").write_text("file,label\nx.mp4,a\n")
    with pytest.raises(ValueError, match="needs a header with at least a 'path' column"):
        discover_videos(tmp_path / "bad.csv")


def test_hrnet_without_weights_stops_with_a_clear_message(tmp_path, capsys):
    assert main(["extract", str(tmp_path), "--store", str(tmp_path / "s"), "--extractor", "hrnet"]) == 2
    assert "--extractor hrnet needs --weights FILE" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.integration
def test_the_flow_in_two_processes_then_a_rerun_adds_nothing(corpus, tmp_path, capsys):
    store = tmp_path / "store"
    code = main(["extract", str(corpus), "--store", str(store), "--workers", "2", "--quiet"])
    assert code == 1  # some videos failed, after every good one was stored
    found = statuses(store)
    assert [name for name, (status, _) in found.items() if status == "ok"] != []
    assert {name for name, (status, _) in found.items() if status == "failed"} == {
        "empty.mp4", "notes.mp4", "truncated.mp4"}
    assert "failed: " in capsys.readouterr().err
    # A re-run skips everything already recorded (failures too: same bytes, same settings).
    assert main(["extract", str(corpus), "--store", str(store), "--workers", "1", "--quiet"]) == 0
    assert len(statuses(store)) == 5 and SkeletonStore(store).videos().num_rows == 5


def committed(store_path: Path) -> int:
    """How many videos the store holds now; 0 while it has none (or is not made yet)."""
    if not (store_path / "videos").exists():
        return 0
    try:
        return len(statuses(store_path))
    except Exception:  # a store caught mid-creation reads as empty
        return 0


@pytest.mark.slow
@pytest.mark.integration
def test_an_interrupted_run_resumes(tmp_path, short_clips):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for copy in range(12):  # different files (content differs by a trailing byte); enough that
        # the run is still busy when its first group of videos is committed
        (corpus / f"clip{copy}.mp4").write_bytes(short_clips["kinetics_tai_chi"].read_bytes() + bytes([copy]))
    store = tmp_path / "store"
    command = [str(Path(sys.executable).parent / "posegraph"), "extract", str(corpus), "--store", str(store),
               "--workers", "1", "--quiet"]
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and committed(store) == 0:  # the folder appears before its first file
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    done_before = len(statuses(store))
    assert 1 <= done_before < 12
    assert subprocess.run(command, capture_output=True).returncode == 0
    assert len(statuses(store)) == 12
    assert SkeletonStore(store).videos().num_rows == 12


@pytest.mark.slow
@pytest.mark.integration
def test_the_flow_on_a_two_worker_dask_cluster(corpus, tmp_path):
    from distributed import LocalCluster

    from posegraph.flows.extraction import run_extraction

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        summary = run_extraction(str(corpus), str(tmp_path / "store"), dask_address=cluster.scheduler_address)
    assert (summary["ok"], summary["failed"], summary["skipped"]) == (2, 3, 0)
    assert summary["frames"] == 64 and summary["frames_per_second"] > 0


def test_the_deployment_schedule_and_parameters(tmp_path):
    from posegraph.flows.scheduling import extraction_deployment

    deployment = extraction_deployment(str(tmp_path), str(tmp_path / "store"), ExtractionOptions(),
                                       cron="0 2 * * *", name="nightly")
    assert deployment.name == "nightly"
    assert deployment.schedules[0].schedule.cron == "0 2 * * *"
    assert deployment.parameters["store"] == str(tmp_path / "store")
    assert deployment.parameters["options"]["extractor"] == "blazepose"


@pytest.mark.slow
@pytest.mark.integration
def test_transient_errors_are_retried_and_persistent_ones_recorded(tmp_path, short_clips, monkeypatch):
    from posegraph.flows import extraction
    from posegraph.flows.extraction import run_extraction

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(short_clips["kinetics_tai_chi"], corpus / "flaky.mp4")
    shutil.copy(short_clips["kinetics_clean_and_jerk"], corpus / "cursed.mp4")
    calls = {"flaky.mp4": 0, "cursed.mp4": 0}
    real = extraction.extract_record

    def unreliable(job, *args, **kwargs):
        name = Path(job.path).name
        calls[name] += 1
        if name == "cursed.mp4" or calls[name] == 1:
            raise OSError(f"network share hiccup reading {name}")
        return real(job, *args, **kwargs)

    monkeypatch.setattr(extraction, "extract_record", unreliable)
    summary = run_extraction(str(corpus), str(tmp_path / "store"), workers=1)
    assert calls == {"flaky.mp4": 2, "cursed.mp4": 3}  # one retry was enough; two retries, then give up
    found = statuses(tmp_path / "store")
    assert found["flaky.mp4"] == ("ok", None)
    assert found["cursed.mp4"][0] == "failed"
    assert "crashed after retries: OSError: network share hiccup reading cursed.mp4" in found["cursed.mp4"][1]
    assert (summary["ok"], summary["failed"]) == (1, 1)


@pytest.fixture
def odd_corpus(tmp_path, short_clips) -> Path:
    """One good clip beside a symlink loop, a named pipe, a broken link and an unreadable file."""
    folder = tmp_path / "odd"
    folder.mkdir()
    shutil.copy(short_clips["kinetics_tai_chi"], folder / "good.mp4")
    os.symlink("loop.mp4", folder / "loop.mp4")
    os.mkfifo(folder / "pipe.mp4")
    os.symlink("gone.mp4", folder / "broken.mp4")
    return folder


def _within(seconds: int):
    """Fail the test instead of hanging (a named pipe opened for reading waits for a writer)."""
    def expire(*_):
        raise TimeoutError(f"took over {seconds} s: something waited on the named pipe")
    signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)


def test_paths_that_are_not_regular_files_become_failed_rows_naming_them(odd_corpus, tmp_path):
    store = str(tmp_path / "store")
    _within(120)
    try:
        outcomes = {Path(job.path).name: extract_one(job, store, ExtractionOptions())
                    for job in discover_videos(odd_corpus)}
    finally:
        signal.alarm(0)
    assert outcomes["good.mp4"]["status"] == "ok"
    expected = {"loop.mp4": "symbolic link loop", "pipe.mp4": "a named pipe", "broken.mp4": "broken symbolic link"}
    for name, words in expected.items():
        assert outcomes[name]["status"] == "failed" and words in outcomes[name]["reason"]
        assert str(odd_corpus / name) in outcomes[name]["reason"]
    assert sorted(statuses(tmp_path / "store").items()) == sorted(
        (name, (outcome["status"], outcome["reason"])) for name, outcome in outcomes.items())


@pytest.mark.integration
def test_the_flow_goes_through_odd_paths_to_its_summary(odd_corpus, tmp_path):
    from posegraph.flows.extraction import run_extraction

    _within(300)
    try:
        summary = run_extraction(str(odd_corpus), str(tmp_path / "store"), workers=1)
    finally:
        signal.alarm(0)
    assert (summary["ok"], summary["failed"]) == (1, 3)
    assert summary["flow_state"] == "Failed"  # as the exit code says (1), not "Completed"
    found = statuses(tmp_path / "store")
    assert sorted(status for status, _ in found.values()) == ["failed", "failed", "failed", "ok"]
    assert found["good.mp4"][0] == "ok" and "named pipe" in found["pipe.mp4"][1]


def test_manifest_problems_name_the_file_and_line(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(b"path,label\nok.mp4,squat\ncaf\xe9.mp4,lunge\n")
    with pytest.raises(ValueError, match=r"m\.csv, line 3: not UTF-8 text \(byte 0xe9"):
        discover_videos(manifest)
    manifest.write_text("path,label,split\na.mp4,squat,train\nb.mp4,lunge\nc.mp4,x,y,z\n")
    with pytest.raises(ValueError, match=r"m\.csv, line 3: 2 fields, but the header has 3"):
        discover_videos(manifest)
    manifest.write_text("path,label\nc.mp4,x,y\n")
    with pytest.raises(ValueError, match=r"m\.csv, line 2: 3 fields, but the header has 2"):
        discover_videos(manifest)


def test_a_moved_or_relabelled_file_updates_its_row_without_re_extraction(tmp_path, short_clips, monkeypatch):
    corpus = tmp_path / "corpus"
    (corpus / "squat").mkdir(parents=True)
    shutil.copy(short_clips["kinetics_tai_chi"], corpus / "squat" / "a.mp4")
    store = str(tmp_path / "store")
    monkeypatch.chdir(tmp_path)  # a relative source: stored paths must still be absolute
    assert extract_one(discover_videos("corpus")[0], store, ExtractionOptions())["status"] == "ok"
    row = SkeletonStore(store).videos().to_pylist()[0]
    assert row["source_path"] == str(corpus / "squat" / "a.mp4") and row["label"] == "squat"
    frames_before = SkeletonStore(store).read_video(row["video_id"]).joints
    (corpus / "lunge").mkdir()
    (corpus / "squat" / "a.mp4").rename(corpus / "lunge" / "a.mp4")
    outcome = extract_one(discover_videos(corpus)[0], store, ExtractionOptions())
    assert outcome["status"] == "skipped" and outcome["metadata"] == {
        "source_path": str(corpus / "lunge" / "a.mp4"), "label": "lunge"}
    moved = SkeletonStore(store).videos().to_pylist()
    assert len(moved) == 1 and (moved[0]["source_path"], moved[0]["label"]) == (str(corpus / "lunge" / "a.mp4"), "lunge")
    assert moved[0]["extracted_at"] == row["extracted_at"]  # not extracted again
    assert (SkeletonStore(store).read_video(row["video_id"]).joints == frames_before)[~(frames_before != frames_before)].all()


@pytest.mark.integration
def test_the_same_bytes_under_two_labels_is_said_and_recorded(tmp_path, short_clips):
    from posegraph.flows.extraction import run_extraction

    corpus = tmp_path / "corpus"
    for label in ("squat", "lunge"):
        (corpus / label).mkdir(parents=True)
        shutil.copy(short_clips["kinetics_tai_chi"], corpus / label / "same.mp4")
    summary = run_extraction(str(corpus), str(tmp_path / "store"), workers=1)
    assert (summary["ok"], summary["duplicate"]) == (1, 1) and summary["flow_state"] == "Completed"
    duplicate = [o for o in summary["outcomes"] if o["status"] == "duplicate"][0]
    assert duplicate["reason"] == f"{corpus / 'squat' / 'same.mp4'}: same bytes as {corpus / 'lunge' / 'same.mp4'} (labelled lunge)"
    row = SkeletonStore(tmp_path / "store").videos().to_pylist()
    assert len(row) == 1
    assert (row[0]["source_path"], row[0]["label"], row[0]["also_at"], row[0]["labels_seen"]) == (
        str(corpus / "lunge" / "same.mp4"), "lunge", [str(corpus / "squat" / "same.mp4")], ["lunge", "squat"])


def test_render_says_when_the_source_video_is_gone(tmp_path, short_clips, capsys):
    clip = tmp_path / "clip.mp4"
    shutil.copy(short_clips["kinetics_tai_chi"], clip)
    store = tmp_path / "store"
    extract_one(VideoJob(str(clip)), str(store), ExtractionOptions())
    clip.unlink()
    video = SkeletonStore(store).videos().column("video_id")[0].as_py()
    assert main(["render", video[:12], "--store", str(store), "--out", str(tmp_path / "sheet.png")]) == 0
    assert f"the source video {clip} is not there" in capsys.readouterr().err
