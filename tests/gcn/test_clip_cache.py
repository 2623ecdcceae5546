"""The training cache (issue 27): equal to the per-video path, rebuilt when it should be, never trusted damaged."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from posegraph.data import SkeletonStore
from posegraph.data.frame_scan import scan_people
from posegraph.data.sources import stored_source
from posegraph.data.synthetic import generate_corpus, store_records
from posegraph.gcn.clip_cache import (
    MANIFEST,
    CacheDamagedError,
    ClipSettings,
    open_cache,
)
from posegraph.gcn.clip_stream import ClipStream
from posegraph.gcn.dataset import CropRecipe, SkeletonDataset, VideoItem
from posegraph.gcn.preprocess import prepare, to_channels
from posegraph.gcn.training import Distributed, train_sampler
from posegraph.gcn.training_cache import ensure_cache

SETTINGS = ClipSettings("openpose18", 16.0, "presence", 1)


@pytest.fixture
def store(tmp_path) -> SkeletonStore:
    """Six exercises x two subjects, one take each (12 videos), in its own folder (tests change it)."""
    store = SkeletonStore(tmp_path / "store")
    store.write_videos(store_records(generate_corpus(subjects=2, takes=1, seed=5, repetitions=2)))
    return store


def items_of(store: SkeletonStore) -> list[VideoItem]:
    rows = [row for row in store.videos().to_pylist() if row["status"] == "ok"]
    return [VideoItem(row["video_id"], row["layout"], number % 3, row["width"], row["height"])
            for number, row in enumerate(rows)]


def build(store, items, log=None, settings=SETTINGS, **options):
    messages = [] if log is None else log
    cache = ensure_cache(store, items, settings, "train", log=messages.append, **options)
    return cache, messages


def test_the_bulk_scan_reads_what_read_video_reads(store):
    rows = store.videos().to_pylist()
    wanted = {row["video_id"]: row["extracted_at"] for row in rows}
    scanned = list(scan_people(store, rows[0]["layout"], wanted, persons=2))
    assert sorted(video.video_id for video in scanned) == sorted(wanted)
    for video in scanned:
        for person in range(2):
            frames = store.read_video(video.video_id, person=person)
            np.testing.assert_array_equal(video.people[person], frames.joints)
            np.testing.assert_array_equal(video.timestamps, frames.timestamps)


def test_a_crowded_bucket_is_read_in_id_ranges_with_the_same_result(tmp_path, monkeypatch):
    # 12 videos in 16 buckets: several share one; one video per read makes every such bucket a
    # sequence of id-range reads (what a bucket of more than VIDEOS_PER_READ videos gets)
    import posegraph.data.frame_scan as frame_scan

    store = SkeletonStore(tmp_path / "crowded", bucket_digits=1)
    store.write_videos(store_records(generate_corpus(subjects=2, takes=1, seed=5, repetitions=2)))
    rows = store.videos().to_pylist()
    assert len({store.bucket_of(row["video_id"]) for row in rows}) < len(rows)
    wanted = {row["video_id"]: row["extracted_at"] for row in rows}
    whole = {video.video_id: video for video in scan_people(store, rows[0]["layout"], wanted, persons=1)}
    monkeypatch.setattr(frame_scan, "VIDEOS_PER_READ", 1)
    ranged = list(scan_people(store, rows[0]["layout"], wanted, persons=1))
    assert sorted(video.video_id for video in ranged) == sorted(wanted)
    for video in ranged:
        np.testing.assert_array_equal(video.people, whole[video.video_id].people)
        assert video.rows == whole[video.video_id].rows > 0


def test_cached_sequences_and_samples_equal_the_per_video_ones(store):
    items = items_of(store)
    cache, _ = build(store, items)
    for item in items:
        expected = to_channels(prepare(stored_source(store, item.video_id, item.layout), "openpose18"))
        np.testing.assert_array_equal(cache.sequence(item.video_id), expected)
    for train in (True, False):
        options = dict(train=train, seed=4, vary=True, stream="bone", clip_frames=40)
        direct = SkeletonDataset(store, items, "openpose18", **options)
        cached = SkeletonDataset(store, items, "openpose18", clips=cache, **options)
        direct.set_epoch(3), cached.set_epoch(3)
        for index in range(len(items)):
            torch.testing.assert_close(cached[index][0], direct[index][0], rtol=0, atol=0)
    batch = cached.__getitems__([0, 5, 2])  # a DataLoader batch made at once: the same samples
    cached.train = True
    batch = cached.__getitems__([0, 5, 2])
    for sample, index in zip(batch, [0, 5, 2]):
        torch.testing.assert_close(sample[0], cached[index][0], rtol=0, atol=0)


def test_a_second_run_reuses_the_cache_and_a_new_video_or_setting_rebuilds_it(store):
    items = items_of(store)
    first, log = build(store, items)
    assert "frame rows/s" in log[-1]
    again, log = build(store, items)
    assert "reused" in log[-1] and again.key == first.key
    relabelled = [dataclasses.replace(item, label=(item.label + 1) % 3) for item in items]
    assert "reused" in build(store, relabelled)[1][-1]  # labels are not cached

    extra = store_records(generate_corpus(subjects=1, takes=1, seed=9, repetitions=2, exercises=("squat",)))
    store.write_videos(extra)
    grown, log = build(store, items_of(store))
    assert "frame rows/s" in log[-1] and grown.key != first.key and len(grown) == len(items) + 1
    assert not Path(first.folder).exists(), "the older cache of the same split and layout is removed"

    # a killed build's staging folder goes with the next build; a fresh one (a build in progress) stays
    root = Path(grown.folder).parent
    stale, fresh = root / ".train-openpose18-aaaa.building-1", root / ".train-openpose18-bbbb.building-2"
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "shard-000-00000.npy").write_bytes(b"half")
    old = time.time() - 7 * 3600
    for path in (stale / "shard-000-00000.npy", stale):
        os.utime(path, (old, old))

    slower, log = build(store, items_of(store), settings=dataclasses.replace(SETTINGS, frames_per_second=10.0))
    assert not stale.exists() and fresh.exists() and any("killed" in line for line in log)
    assert "frame rows/s" in log[-1] and slower.key != grown.key
    some = items_of(store)[0]
    assert slower.sequence(some.video_id).shape[1] < grown.sequence(some.video_id).shape[1]


def test_a_re_extracted_video_rebuilds_its_cache(store):
    items = items_of(store)
    first, _ = build(store, items)
    info, skeletons = store_records(generate_corpus(subjects=2, takes=1, seed=5, repetitions=2))[0]
    store.write_video(info, skeletons)  # the same video extracted again: a later extracted_at
    second, log = build(store, items)
    assert "frame rows/s" in log[-1] and second.key != first.key


@pytest.mark.parametrize("damage", ["truncated shard", "flipped byte", "garbage manifest", "missing index",
                                    "truncated index"])
def test_a_damaged_cache_is_rebuilt_in_one_line_and_nothing_is_lost(store, damage):
    items = items_of(store)
    cache, _ = build(store, items)
    folder = Path(cache.folder)
    shard = folder / cache.shard_names[0]
    expected = cache.sequence(items[0].video_id).copy()
    del cache
    if damage == "truncated shard":
        shard.write_bytes(shard.read_bytes()[:-1000])
    elif damage == "flipped byte":
        data = bytearray(shard.read_bytes())
        data[-7] ^= 0xFF
        shard.write_bytes(bytes(data))
    elif damage == "garbage manifest":
        (folder / MANIFEST).write_text("{not json")
    elif damage == "missing index":
        (folder / "clips.parquet").unlink()
    else:
        index = folder / "clips.parquet"
        index.write_bytes(index.read_bytes()[:50])
    with pytest.raises(CacheDamagedError):
        open_cache(folder)
    rebuilt, log = build(store, items)
    damaged = [line for line in log if "building it again" in line]
    assert len(damaged) == 1 and str(folder) in damaged[0] and "\n" not in damaged[0]
    np.testing.assert_array_equal(rebuilt.sequence(items[0].video_id), expected)
    assert len(store.videos()) == len(items)  # the store is untouched
    assert open_cache(folder, verify="full").key == rebuilt.key


def test_the_distributed_sampler_splits_the_clips_across_ranks_and_epochs():
    clips = list(range(103))
    for world_size in (1, 2, 3, 4):
        shares = [list(train_sampler(clips, Distributed(rank, world_size), seed=7, epoch=2))
                  for rank in range(world_size)]
        assert len({len(share) for share in shares}) == 1  # every rank steps as often
        seen = [clip for share in shares for clip in share]
        assert set(seen) == set(clips)
        assert len(seen) - len(clips) < world_size  # only the padding repeats
        assert shares == [list(train_sampler(clips, Distributed(rank, world_size), seed=7, epoch=2))
                          for rank in range(world_size)]  # deterministic
    first = list(train_sampler(clips, Distributed(0, 2), seed=7, epoch=0))
    assert first != list(train_sampler(clips, Distributed(0, 2), seed=7, epoch=1))  # reshuffled per epoch


def test_streaming_deals_shards_to_ranks_and_yields_the_same_count_on_each(store):
    items = items_of(store)
    cache, _ = build(store, items, shard_bytes=20_000)  # many small shards
    assert len(cache.shard_names) > 4
    recipe = CropRecipe("openpose18", clip_frames=32)
    ranks = [ClipStream(cache, items, recipe, seed=1, buffer_clips=3, rank=rank, world_size=2) for rank in range(2)]
    for stream in ranks:
        stream.set_epoch(1)
    shards = [set(stream.slot_shards(rank, 2)) for rank, stream in enumerate(ranks)]
    assert not shards[0] & shards[1] and shards[0] | shards[1] == set(range(len(cache.shard_names)))
    samples = [list(stream) for stream in ranks]
    assert [len(part) for part in samples] == [len(items) // 2] * 2
    labels = {item.label for item in items}
    for data, label in samples[0] + samples[1]:
        assert data.shape == (3, 32, 18, 1) and label in labels
    one = ClipStream(cache, items, recipe, seed=1, buffer_clips=4)
    one.set_epoch(1)
    assert len(list(one)) == len(items)
    with pytest.raises(ValueError, match="not in the cache"):
        ClipStream(cache, items + [VideoItem("f" * 64, items[0].layout, 0)], recipe)


def test_posegraph_cache_build_and_check(store, capsys):
    from posegraph.flows.cli import main

    assert main(["cache", "build", "--store", str(store.root), "--layout", "openpose18", "--split", "all",
                 "--workers", "1", "--quiet"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.count("\n") == 0 and "clips" in line and "frame rows/s" in line
    folder = line.split("training cache ", 1)[1].split(":", 1)[0]
    assert json.loads((Path(folder) / MANIFEST).read_text())["clips"] == len(items_of(store))
    assert main(["cache", "check", folder]) == 0
    shard = sorted(Path(folder).glob("shard-*.npy"))[0]
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0x01
    shard.write_bytes(bytes(data))
    assert main(["cache", "check", folder]) == 1
    assert "SHA-256" in capsys.readouterr().out


@pytest.mark.parametrize("mode", ["on", "stream"])
def test_training_reads_the_cache_and_reports_its_wait_for_data(store, tmp_path, mode, monkeypatch):
    import posegraph.gcn.training as training
    from posegraph.gcn.calibration import class_mean_videos
    from posegraph.gcn.config import load_config
    from posegraph.gcn.training import train

    # class means from half the train split (this small split has one video per class): a strict
    # subset, as the 200 per class are of a large corpus
    monkeypatch.setattr(training, "class_mean_videos", lambda items: class_mean_videos(items)[: len(items) // 2])
    lines: list[str] = []
    config = load_config(None, ["epochs=1", f"cache={mode}", "split=stratified", "clip_frames=24", "batch_size=2",
                                "steps_per_epoch=3"], model="stgcn")
    train(config, store.root, tmp_path / "run", progress=False, log=lines.append)
    assert any(line.startswith("training cache") and "frame rows/s" in line for line in lines)
    epoch = next(line for line in lines if line.startswith("epoch 1/1"))
    assert "waiting for data" in epoch
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert 0 <= history[0]["data_wait_s"] <= history[0]["epoch_s"]
    assert (history[0]["steps"], history[0]["samples"]) == (3, 6)  # steps_per_epoch ends the epoch early
    # the calibration after training reads its class means' videos from the training split's cache
    # (a cache of that subset, built as "train", replaced the whole split's after every run)
    assert len(list((Path(store.root) / "_cache" / "clips").glob("train-*"))) == 1
    assert not any("removed" in line for line in lines)


def test_class_means_come_from_a_capped_deterministic_share_of_each_class():
    from posegraph.gcn.calibration import class_mean_videos

    items = [VideoItem(f"{number:064x}", "openpose18", number % 3) for number in range(30)]
    chosen = class_mean_videos(items, per_class=4)
    assert [sum(item.label == label for item in chosen) for label in range(3)] == [4, 4, 4]
    assert chosen == [item for item in items if item in chosen]  # split order kept
    assert class_mean_videos(items, per_class=50) == items


def test_the_cache_setting_is_checked():
    from posegraph.gcn.config import load_config

    with pytest.raises(ValueError, match="cache='sometimes'"):
        load_config(None, ["cache=sometimes"], model="stgcn")
    with pytest.raises(ValueError):
        load_config(None, ["cache=on"], model="bilstm")  # the sequence model reads feature windows


def test_parts_run_elsewhere_go_through_the_one_build_and_its_clean_up(store, tmp_path):
    """The Dask flow's way (``run_parts``: one task per part) is the one build: the cache equals
    the in-process one, a staging folder a killed build left is cleared, and a failed part takes
    its own staging folder away."""
    from posegraph.gcn.clip_cache_build import build_part
    from posegraph.gcn.training_cache import STALE_STAGING_S

    items, root = items_of(store), tmp_path / "caches"
    stale = root / f".train-{SETTINGS.layout}-0123456789ab.building-dead"
    stale.mkdir(parents=True)
    os.utime(stale, (time.time() - STALE_STAGING_S - 60,) * 2)
    ran = []

    def elsewhere(plan, shard_bytes):
        ran.append(len(plan.parts))
        return [build_part(*plan.part_arguments(number, shard_bytes)) for number in range(len(plan.parts))]

    cache = ensure_cache(store, items, SETTINGS, "train", root, log=lambda _: None, parts=3, run_parts=elsewhere)
    assert ran and ran[0] >= 2 and not stale.exists() and len(cache) == len(items)
    alone = ensure_cache(store, items, SETTINGS, "train", tmp_path / "alone", log=lambda _: None)
    for item in items:
        assert np.array_equal(cache.sequence(item.video_id), alone.sequence(item.video_id), equal_nan=True)

    def failing(plan, shard_bytes):
        raise RuntimeError("a worker was lost")

    with pytest.raises(RuntimeError):
        ensure_cache(store, items, SETTINGS, "train", tmp_path / "failed", log=lambda _: None, parts=2,
                     run_parts=failing, rebuild=True)
    assert not [path for path in (tmp_path / "failed").glob(".*building*")]
