"""A real Prefect flow run with its temporary local server: proves the fastapi pin works."""

import pytest

from posegraph.data import SkeletonStore


@pytest.mark.integration
def test_synthesize_corpus_flow_runs_for_real(tmp_path):
    from prefect.flows import Flow

    from posegraph.flows.synthesis import synthesize_corpus

    assert isinstance(synthesize_corpus, Flow)
    state = synthesize_corpus(str(tmp_path / "store"), subjects=3, takes=1, seed=1, return_state=True)
    assert state.is_completed()
    summary = state.result()
    videos = SkeletonStore(tmp_path / "store").videos()
    assert summary["videos"] == videos.num_rows == 18
    assert summary["frames"] == sum(videos.column("frame_count").to_pylist())
