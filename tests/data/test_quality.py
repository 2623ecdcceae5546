"""The data-quality report (posegraph store report): a store built to have each problem once, and a
clean one, through the profile, the rules, the Markdown / HTML and the command's exit status."""

from __future__ import annotations

import json

import numpy as np
import pytest

from posegraph.data import SkeletonStore
from posegraph.data.quality import failure_reason, profile_store
from posegraph.data.quality_render import report_html, report_markdown
from posegraph.data.quality_rules import RuleError, check_rule, validate_rules
from posegraph.flows.cli import main
from tests.conftest import make_video, video_id

RULES = ("subjects-across-splits", "duplicates", "detection-rate<0.5:4%", "class-imbalance>3", "failed>0")


def _video(number: int, label: str, split: str, subject: str, seed: int | None = None, detected: float | None = None,
           **changes):
    """A 40-frame video seen in the first ``detected`` of its frames (default 88-97%, by number)."""
    info, skeletons = make_video(video_id("c", number), frames=40, seed=number if seed is None else seed, label=label)
    share = 0.88 + 0.01 * (number % 10) if detected is None else detected
    seen = np.arange(40)[None, :] < round(share * 40)
    skeletons.joints[~seen] = np.nan
    skeletons.detected[:] = seen
    return info.replace(split=split, group=subject, source_path=f"/corpus/{label}/{number}.mp4", source_fps=30.0,
                        width=1280, height=720, duration_s=40 / 30.0, **changes), skeletons


def _clean_items() -> list:
    """Two balanced classes, each subject in one split, every video well seen."""
    items = []
    for number in range(16):
        subject = f"s{number % 4}"
        split = {"s0": "train", "s1": "train", "s2": "val", "s3": "test"}[subject]
        items.append(_video(number, ("squat", "lunge")[number % 2], split, subject))
    return items


@pytest.fixture(scope="module")
def clean_store(tmp_path_factory) -> SkeletonStore:
    store = SkeletonStore(tmp_path_factory.mktemp("clean") / "store")
    store.write_videos(_clean_items())
    return store


@pytest.fixture(scope="module")
def problem_store(tmp_path_factory) -> SkeletonStore:
    """The clean store plus each problem once: subject s9 in train and test, video 20 a copy of
    video 3's skeleton, video 21 seen in 20% of its frames, a class of 2 videos against 8 and 9,
    a file stored at two paths, and one that failed to decode."""
    items = _clean_items()
    items += [_video(17, "squat", "train", "s9"), _video(18, "plank", "test", "s9"),
              _video(19, "plank", "train", "s0")]
    copied = items[3]
    items.append((copied[0].replace(video_id=video_id("c", 20), source_path="/corpus/copy/20.mp4"), copied[1]))
    items.append(_video(21, "lunge", "train", "s1", detected=0.2, status="rejected",
                        reason="person detected in 20% of frames, below the minimum of 50%"))
    items[0] = (items[0][0].replace(also_at=["/corpus/squat/0.mp4", "/backup/squat/0.mp4"]), items[0][1])
    failed = items[1][0].replace(video_id=video_id("c", 22), source_path="/corpus/broken/22.mp4", status="failed",
                                 reason="/corpus/broken/22.mp4: truncated: only 12 of the 300 frames could be decoded")
    store = SkeletonStore(tmp_path_factory.mktemp("problems") / "store")
    store.write_videos(items + [(failed, None)])
    return store


def test_profile_finds_each_problem(problem_store):
    report = profile_store(problem_store)
    assert report.videos == 22
    assert [(item.subject, item.splits) for item in report.subjects_across_splits] == [("s9", ("test", "train"))]
    kinds = {item.kind: item for item in report.duplicates}
    assert set(kinds["same skeleton"].video_ids) == {video_id("c", 3), video_id("c", 20)}
    assert kinds["same bytes"].paths == ("/corpus/squat/0.mp4", "/backup/squat/0.mp4")
    detection = report.distribution("detection_rate")
    assert [item.video_id for item in detection.outliers] == [video_id("c", 21)]
    assert detection.outliers[0].value < 0.4
    assert report.smallest_classes == (("plank", 2),)
    assert report.class_imbalance == pytest.approx(10 / 2)  # lunge 10 (a copy and a rejected video among them), plank 2
    assert len(report.failures) == 2  # the rejected one and the failed one, each its own reason
    failed = next(group for group in report.failures if group.reason.startswith("failed"))
    assert failed.reason == "failed: truncated: only N of the N frames could be decoded"
    assert failed.examples == ("/corpus/broken/22.mp4",)
    assert report.distribution("interpolated").count == 21
    assert {item.layout for item in report.joint_visibility} == {"blazepose33"}


def test_clean_store_has_no_problems(clean_store):
    report = profile_store(clean_store)
    assert report.subjects_across_splits == () and report.duplicates == () and report.failures == ()
    assert report.class_imbalance == 1.0
    for rule in RULES:
        assert not check_rule(report, rule).failed, rule
    markdown = report_markdown(report)
    assert "several splits" not in markdown and "duplicate" not in markdown and "imbalance 1.0" not in markdown


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_fails_the_command_on_the_problem_store(problem_store, clean_store, rule, capsys):
    assert main(["store", "report", str(clean_store.root), "--fail-on", rule]) == 0
    assert main(["store", "report", str(problem_store.root), "--fail-on", rule]) == 1
    assert f"--fail-on {rule} failed" in capsys.readouterr().err


def test_rule_thresholds(problem_store):
    report = profile_store(problem_store)
    assert not check_rule(report, "detection-rate<0.5:10%").failed  # 1 of 21 is under 10%
    assert check_rule(report, "detection-rate<0.5:1").failed is False  # a count: more than 1 needed
    assert not check_rule(report, "class-imbalance>5").failed
    assert check_rule(report, "failed>1").failed  # a failed and a rejected video
    assert check_rule(report, "duration>1").failed and not check_rule(report, "duration>2").failed


@pytest.mark.parametrize("rule", ["detection<0.5", "class-imbalance>x", "nonsense", "failed>lots"])
def test_unreadable_rules_are_refused_before_the_scan(rule, clean_store, capsys):
    with pytest.raises(RuleError, match="--fail-on"):
        validate_rules([rule])
    assert main(["store", "report", str(clean_store.root), "--fail-on", rule]) != 0
    assert "--fail-on" in capsys.readouterr().err


def test_markdown_html_and_json(problem_store, tmp_path, capsys):
    html_path, json_path = tmp_path / "out" / "report.html", tmp_path / "report.json"
    assert main(["store", "report", str(problem_store.root), "--html", str(html_path), "--json", str(json_path)]) == 0
    out = capsys.readouterr().out
    assert "subject **s9** in several splits" in out and "duplicate (same skeleton)" in out
    assert "class imbalance 5.0x" in out and "| plank |" in out
    page = html_path.read_text()
    assert page.count("<svg") >= 9 and "http" not in page.split("<body>", 1)[1]  # charts inline, nothing fetched
    document = json.loads(json_path.read_text())
    assert document["format"] == "posegraph-store-report/1" and document["videos"] == 22
    assert report_html(profile_store(problem_store)).startswith("<!doctype html>")


def test_failure_reasons_group_without_paths_and_numbers():
    assert failure_reason("/a/b.mp4: no frame could be decoded", "/a/b.mp4") == "no frame could be decoded"
    assert failure_reason("only 3 of 40 frames", None) == "only N of N frames"
    assert failure_reason(None, "/x.mp4") == "(no reason recorded)"


def test_report_as_a_flow_publishes_an_artifact(problem_store, tmp_path):
    from prefect.testing.utilities import prefect_test_harness

    from posegraph.flows.reporting import store_report_flow

    with prefect_test_harness():
        from prefect.client.orchestration import get_client

        report, results = store_report_flow(str(problem_store.root), ["duplicates"], str(tmp_path / "r.html"))
        assert results[0].failed and report.videos == 22 and (tmp_path / "r.html").exists()

        async def artifact():
            from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

            async with get_client() as client:
                return await client.read_artifacts(
                    artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["store-report"])))

        import asyncio

        found = asyncio.run(artifact())
        assert found and "subject **s9**" in found[0].data
