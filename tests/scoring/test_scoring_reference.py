"""The reference as a file: round trip, what it records, and what loading refuses."""

import json

import numpy as np
import pytest

from posegraph.scoring import FormReference, ReferenceFileError
from posegraph.scoring.artifact import FORMAT, VERSION


@pytest.fixture(scope="module")
def saved(squat_reference, tmp_path_factory):
    return squat_reference.save(tmp_path_factory.mktemp("reference") / "squat.json")


def test_a_loaded_reference_scores_exactly_as_the_fitted_one(squat_reference, saved, synthetic):
    loaded = FormReference.load(saved, layout="blazepose33", exercise="squat")
    for sequence in synthetic("squat")[:2] + synthetic("squat", fault="knees_caving")[:1]:
        for method in ("phase", "joint"):
            before = squat_reference.score(sequence.joints, (sequence.width, sequence.height), method=method)
            after = loaded.score(sequence.joints, (sequence.width, sequence.height), method=method)
            np.testing.assert_array_equal(after.joint_scores, before.joint_scores)
            np.testing.assert_array_equal(after.running_score, before.running_score)
            assert after.worst_joints == before.worst_joints


def test_the_file_says_what_made_it(saved, synthetic):
    document = json.loads(saved.read_text())
    assert (document["format"], document["version"]) == (FORMAT, VERSION)
    assert (document["exercise"], document["layout"]) == ("squat", "blazepose33")
    assert document["videos"] == [s.sequence_id for s in synthetic("squat", reference=True)]
    assert document["parameters"]["max_frames"] == 20_000 and document["parameters"]["mirror"] is True
    assert {"numpy", "hdbscan", "posegraph", "python"} <= set(document["packages"])
    frames = document["frames"]
    assert frames["given"] == frames["too_little_seen"] + frames["sampled"]
    assert frames["used"] == frames["sampled"] - frames["fitting_no_phase"]
    assert len(document["phase"]["centroids"]) == len(document["phase"]["sizes"]) >= 2


def test_another_version_or_layout_is_refused_naming_both(saved, tmp_path):
    with pytest.raises(ReferenceFileError, match="for layout 'blazepose33', expected layout 'coco17'"):
        FormReference.load(saved, layout="coco17")
    with pytest.raises(ReferenceFileError, match="exercise 'squat', expected exercise 'lunge'"):
        FormReference.load(saved, exercise="lunge")
    document = json.loads(saved.read_text())
    document["version"] = VERSION + 1
    future = tmp_path / "future.json"
    future.write_text(json.dumps(document))
    with pytest.raises(ReferenceFileError, match=rf"version {VERSION + 1}; this posegraph reads version {VERSION}"):
        FormReference.load(future)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something-else", "version": 1}))
    with pytest.raises(ReferenceFileError, match="not a form reference"):
        FormReference.load(other)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ReferenceFileError, match="not readable as a form reference"):
        FormReference.load(tmp_path / "broken.json")


def test_bad_calls_say_what_is_wrong(squat_reference, synthetic):
    squat = synthetic("squat")[0]
    with pytest.raises(TypeError, match="unknown FormReference.fit option.*max_frame"):
        FormReference.fit([squat.joints], max_frame=10)
    with pytest.raises(ValueError, match="unknown scoring method 'best'"):
        squat_reference.score(squat.joints, method="best")
    with pytest.raises(ValueError, match="blazepose33"):
        squat_reference.score(squat.joints[:, :17])
    with pytest.raises(ValueError, match="1 sequences but 2 frame sizes"):
        FormReference.fit([squat.joints], frame_sizes=[(640, 480), (640, 480)])


def test_max_frames_subsamples_with_the_seed(synthetic):
    good = [s.joints for s in synthetic("squat", reference=True)[:4]]
    first = FormReference.fit(good, max_frames=300, seed=1)
    again = FormReference.fit(good, max_frames=300, seed=1)
    assert first.info["frames"]["sampled"] == 300
    np.testing.assert_array_equal(first.phases.centroids, again.phases.centroids)
