"""A store named by URI takes the object-storage code path: Arrow's filesystem for the marker and
the data files, delta-rs with the URI for commits, no flock. ``file://`` URIs exercise it on local
disk (the tests never reach a real object store)."""

from pathlib import Path, PurePosixPath

import pytest

from posegraph.data import NotAStoreError, SkeletonStore
from posegraph.data.location import StoreLocation
from posegraph.data.query import run_query
from posegraph.data.upkeep import check, compact, history, vacuum
from tests.conftest import make_video, video_id


@pytest.fixture
def uri_store(tmp_path) -> SkeletonStore:
    return SkeletonStore(f"file://{tmp_path}/remote-store")


def test_a_uri_store_uses_arrow_paths_and_no_lock(uri_store, tmp_path):
    assert not uri_store.location.is_local and uri_store.root == f"file://{tmp_path}/remote-store"
    assert (tmp_path / "remote-store" / "_posegraph_store.json").exists()
    uri_store.write_videos([make_video(video_id("a", number), seed=number) for number in range(6)])
    data_file = uri_store.files("frames")[0]
    assert isinstance(data_file.path, PurePosixPath) and not isinstance(data_file.path, Path)
    assert not (tmp_path / "remote-store" / "_locks").exists()  # object stores get no flock


def test_write_read_query_and_reopen_through_a_uri(uri_store, tmp_path):
    expected = {}
    for number in range(6):  # one bucket: its small videos files get merged (merge_at=4)
        info, skeletons = make_video(video_id("b0", number), seed=number)
        uri_store.write_video(info, skeletons)
        expected[info.video_id] = skeletons.joints[0]
    merged = [f for f in uri_store.files("videos") if "merged" in f.path.name]
    assert merged, "the small videos files were not merged through the URI code path"
    reopened = SkeletonStore(uri_store.root, create=False)
    assert reopened.videos().num_rows == 6
    for identifier, joints in expected.items():
        read = reopened.read_video(identifier).joints
        assert read.shape == joints.shape
        assert ((read == joints) | (read != read)).all()  # equal, NaN where it was NaN
    counted = run_query(reopened, "SELECT count(*) AS n FROM frames").column("n")[0].as_py()
    assert counted == 6 * 20
    with pytest.raises(Exception, match="may only read the store"):
        run_query(reopened, f"SELECT * FROM read_csv('{tmp_path}/elsewhere.csv')")


def test_upkeep_and_repair_through_a_uri(uri_store, tmp_path):
    uri_store.write_videos([make_video(video_id("c0", number), seed=number) for number in range(3)])
    uri_store.write_videos([make_video(video_id("d", number), seed=number) for number in range(3)])
    assert any(commit.operation.startswith("write") for commit in history(uri_store))
    compact(uri_store)
    vacuum(uri_store, retention_hours=0)
    assert uri_store.videos().num_rows == 6
    victim = uri_store.files("frames", bucket="c0")[0]
    Path(str(victim.path)).write_bytes(b"not parquet")
    report = check(uri_store, repair=True)
    assert report.repaired and [d.table for d in report.damaged] == ["frames"]
    assert (tmp_path / "remote-store" / "_damaged" / "frames").exists()
    assert check(uri_store).damaged == []
    assert {row["video_id"] for row in report.re_extract} == {video_id("c0", n) for n in range(3)}


def test_a_uri_that_is_not_a_store_is_refused(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("hello")
    with pytest.raises(NotAStoreError, match="not a posegraph skeleton store"):
        SkeletonStore(f"file://{tmp_path}/other")
    with pytest.raises(NotAStoreError, match="no skeleton store"):
        SkeletonStore(f"file://{tmp_path}/missing", create=False)
    with pytest.raises(ValueError, match="cannot open the store location"):
        StoreLocation.of("nosuchscheme://bucket/store")


def test_object_store_names_for_delta_rs_arrow_and_duckdb(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # else Arrow asks the bucket for its region (network)
    s3 = StoreLocation.of("s3://corpora/gym/")
    assert (s3.uri, str(s3.base), s3.root()) == ("s3://corpora/gym", "corpora/gym", "s3://corpora/gym")
    assert s3.child("frames") == "s3://corpora/gym/frames"
    assert s3.reader_path(s3.path("frames", "a.parquet")) == "s3://corpora/gym/frames/a.parquet"
    azure = StoreLocation.of("abfss://videos@account.dfs.core.windows.net/gym")
    assert azure.reader_path(azure.path("videos", "b.parquet")) == \
        "abfss://videos@account.dfs.core.windows.net/gym/videos/b.parquet"


def test_sql_over_s3_gets_the_environment_credentials_or_says_what_is_missing(monkeypatch):
    import duckdb

    from posegraph.data import StoreError
    from posegraph.data.query import _object_store_credentials

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:9000")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    store = type("S3Store", (), {"location": StoreLocation.of("s3://corpora/gym"), "root": "s3://corpora/gym"})()
    connection = duckdb.connect()
    try:
        _object_store_credentials(connection, store)
    except StoreError as error:  # no httpfs extension here (no internet to fetch it)
        assert "needs DuckDB's httpfs extension" in str(error)
        return
    secrets = connection.sql("SELECT type, secret_string FROM duckdb_secrets()").fetchall()
    assert secrets[0][0] == "s3" and "localhost:9000" in secrets[0][1]
