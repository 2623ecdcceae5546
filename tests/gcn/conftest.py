import pytest

from posegraph.data import SkeletonStore
from posegraph.data.synthetic import generate_corpus, store_records


@pytest.fixture(scope="session")
def synthetic_store(tmp_path_factory) -> SkeletonStore:
    """Six exercises x six subjects x two takes; split by subject (s05 val, s06 test)."""
    store = SkeletonStore(tmp_path_factory.mktemp("synthetic") / "store")
    store.write_videos(store_records(generate_corpus(subjects=6, takes=2, seed=11, repetitions=3)))
    return store
