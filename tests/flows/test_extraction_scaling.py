"""Extraction on every core: longest videos first, start-up once per worker, warm Dask workers."""

from pathlib import Path

import pytest
from posegraph.data import corpus_extraction
from posegraph.data.corpus_extraction import ExtractionOptions, longest_first, warm_up_worker, work_estimate
from posegraph.data.ingest import VideoJob
from posegraph.flows import extraction, workers
from posegraph.flows.extraction import task_runner


def test_longest_first_orders_by_estimate_and_keeps_ties_in_order():
    jobs = [VideoJob(name) for name in ("a", "b", "c", "d", "e")]
    estimate = {"a": 1.0, "b": 5.0, "c": 0.0, "d": 5.0, "e": 2.5}
    ordered = longest_first(jobs, lambda job: estimate[job.path])
    assert [job.path for job in ordered] == ["b", "d", "e", "a", "c"]
    assert longest_first([], lambda job: 1.0) == []


def test_work_estimate_reads_the_container(short_clips, broken_videos, tmp_path):
    clip = short_clips["kinetics_tai_chi"]  # 2 s, 340x256, ~30 fps
    at_16 = work_estimate(str(clip), 16.0)
    every_frame = work_estimate(str(clip), None)
    assert 0 < at_16 < every_frame  # fewer sampled frames, same decoding
    assert at_16 == pytest.approx(32 * corpus_extraction.SECONDS_PER_SAMPLED_FRAME
                                  + 60 * 340 * 256 / 1e6 * corpus_extraction.SECONDS_PER_DECODED_MEGAPIXEL, rel=0.1)
    # Unreadable files cost nothing (they fail at once) and so go last.
    assert work_estimate(str(broken_videos["empty"]), 16.0) == 0.0
    assert work_estimate(str(broken_videos["notes"]), 16.0) == 0.0
    assert work_estimate(str(tmp_path / "missing.mp4"), 16.0) == 0.0
    jobs = [VideoJob(str(broken_videos["notes"])), VideoJob(str(clip))]
    assert longest_first(jobs, lambda job: work_estimate(job.path, 16.0))[0].path == str(clip)


def test_a_worker_warms_up_once_per_process_and_options(monkeypatch):
    built, warmed = [], []

    class Fake:
        def warm_up(self):
            warmed.append(1)

    def fake_extractor(options):
        built.append(options)
        return Fake()

    monkeypatch.setattr(corpus_extraction, "extractor_for", fake_extractor)
    monkeypatch.setattr(corpus_extraction, "_warmed", set())
    assert warm_up_worker(ExtractionOptions()) is True
    assert warm_up_worker(ExtractionOptions()) is False  # every later video: nothing
    assert (len(built), len(warmed)) == (1, 1)
    assert warm_up_worker(ExtractionOptions(target_fps=8.0)) is True  # other options: their own model
    assert len(built) == 2


def test_a_failing_warm_up_does_not_break_the_pool(monkeypatch):
    def broken(options):
        raise ValueError("the extractor needs weights")

    monkeypatch.setattr(extraction, "warm_up_worker", broken)
    assert extraction._warm_up_process_worker(ExtractionOptions()) is None  # the first task will say it


def test_blazepose_warm_up_runs_a_frame():
    from posegraph.skeleton.extraction import build_extractor

    build_extractor("blazepose").warm_up()  # no error, no person: nothing returned or stored


def test_process_runner_warms_its_workers_up():
    runner = task_runner(workers=2, options=ExtractionOptions(max_gap=4))
    assert isinstance(runner, workers.WarmProcessPoolTaskRunner)
    assert runner._initializer is extraction._warm_up_process_worker
    assert runner._initargs == (ExtractionOptions(max_gap=4),)
    copy = runner.duplicate()  # what the flow engine enters
    assert isinstance(copy, workers.WarmProcessPoolTaskRunner) and copy._initargs == runner._initargs
    assert runner.start_workers() == 0  # not entered: nothing to start
    assert workers.CAN_WRAP, "this Prefect's process pool changed: the per-task client/settings reuse is off"
    assert type(task_runner(workers=1)).__name__ == "ThreadPoolTaskRunner"


def test_a_worker_keeps_one_client_and_one_settings_context():
    from prefect.client.orchestration import get_client
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED,
        temporary_settings,
    )

    serialized = {"a": 1}
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        workers._settings_context({"bogus": 1}, None)  # really hydrated (and validated)
    assert workers._settings_context(None, None) is None
    workers._settings_cache[:] = [((serialized, {"X": "1"}), "cached")]
    assert workers._settings_context({"a": 1}, {"X": "1"}) == "cached"  # equal value: no rebuild

    opened = workers._client_opened[0]
    try:
        with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api",
                                 PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED: False}):
            first = workers.warm_client()
            assert workers.warm_client() is first
            assert get_client(sync_client=True) is first  # what Prefect's engine will use
            with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:10/api"}):
                assert workers.warm_client() is not first  # another server: another client
        assert workers._client_opened[0] == opened + 2
    finally:
        while workers._client_cache:
            workers._client_cache.pop()[1].__exit__(None, None, None)
        workers._settings_cache.clear()


def test_dask_runners_warm_every_worker(monkeypatch):
    import dask
    from posegraph.flows import server
    from posegraph.flows.dask_runner import (
        WORKER_ENVIRON_UNSET,
        WarmDaskTaskRunner,
        WarmUpPlugin,
        local_cluster,
        local_cluster_kwargs,
    )

    started = []
    monkeypatch.setattr(server, "share_temporary_server", lambda: started.append(1))
    local = task_runner(dask_workers=3)
    assert isinstance(local, WarmDaskTaskRunner) and started == [1]
    assert local.cluster_kwargs["n_workers"] == 3 and local.cluster_kwargs["threads_per_worker"] == 1
    assert local.initializer is warm_up_worker and local.initargs == (ExtractionOptions(),)
    assert local.cluster_class is local_cluster
    with dask.config.set(WORKER_ENVIRON_UNSET):  # Dask's MALLOC_TRIM_THRESHOLD_ really unset
        environ = dask.config.get("distributed.nanny.pre-spawn-environ")
        assert environ["MALLOC_TRIM_THRESHOLD_"] is None and environ["OMP_NUM_THREADS"] == 1
    remote = task_runner(dask_address="tcp://10.0.0.5:8786", options=ExtractionOptions(max_gap=2))
    assert remote.address == "tcp://10.0.0.5:8786" and started == [1]  # a remote cluster: no local server
    copy = remote.duplicate()
    assert (copy.address, copy.initializer, copy.initargs) == (remote.address, warm_up_worker,
                                                               (ExtractionOptions(max_gap=2),))
    with pytest.raises(ValueError, match="at least one worker"):
        local_cluster_kwargs(0)

    calls = []
    plugin = WarmUpPlugin(calls.append, ("x",))
    plugin.setup(worker=None)
    assert calls == ["x"] and plugin.idempotent
    WarmUpPlugin(int, ("not a number",)).setup(worker=None)  # a failed warm-up is logged, not raised
    assert plugin.name == WarmUpPlugin(calls.append, ("x",)).name != WarmUpPlugin(calls.append, ("y",)).name


@pytest.mark.slow
@pytest.mark.integration
def test_the_flow_on_a_local_dask_cluster_started_for_the_run(short_clips, broken_videos, tmp_path):
    from posegraph.data import SkeletonStore
    from posegraph.flows.extraction import run_extraction

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, clip in short_clips.items():
        (corpus / f"{name}.mp4").write_bytes(clip.read_bytes())
    (corpus / "notes.mp4").write_bytes(broken_videos["notes"].read_bytes())
    summary = run_extraction(str(corpus), str(tmp_path / "store"), dask_workers=2)
    assert (summary["ok"], summary["failed"], summary["skipped"], summary["frames"]) == (2, 1, 0, 64)
    assert {Path(row["source_path"]).name for row in SkeletonStore(tmp_path / "store").videos().to_pylist()} == {
        "kinetics_clean_and_jerk.mp4", "kinetics_tai_chi.mp4", "notes.mp4"}
