import json
import subprocess
import sys
from pathlib import Path


from posegraph.data.kinetics import write_kinetics_json
from posegraph.flows.cli import main
from tests.conftest import make_video, video_id

HEAVY = ("torch", "prefect", "mediapipe", "torch_geometric", "duckdb", "pyarrow")


def test_help_imports_nothing_heavy():
    """--help must stay fast (benchmarks/cli_startup.py times it): no torch, prefect, mediapipe..."""
    code = ("import sys; from posegraph.flows.cli import build_parser; build_parser().format_help(); "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
    helped = subprocess.run([str(Path(sys.executable).parent / "posegraph"), "--help"], capture_output=True,
                            text=True, check=True)
    for command in ("extract", "query", "train", "classify", "render", "serve"):
        assert command in helped.stdout


def test_query_command_writes_json(store, tmp_path, capsys):
    store.write_video(*make_video(video_id("ab")))
    out = tmp_path / "videos.json"
    assert main(["query", "SELECT label, frame_count FROM videos", "--store", str(store.root),
                 "--format", "json", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == [{"label": "squat", "frame_count": 20}]
    assert main(["query", "SELECT count(*) AS n FROM joints", "--store", str(store.root)]) == 0
    assert "660" in capsys.readouterr().out


def test_query_errors_say_what_to_do(store, tmp_path, capsys):
    assert main(["query", "DELETE FROM videos", "--store", str(store.root)]) == 2
    assert "only read-only SELECT queries" in capsys.readouterr().err
    assert main(["query", "SELECT 1", "--store", str(tmp_path / "nowhere")]) == 2
    assert "no skeleton store at" in capsys.readouterr().err


def test_schema_command(store, capsys):
    assert main(["schema", "--store", str(store.root)]) == 0
    text = capsys.readouterr().out
    assert "joints" in text and "joint_name" in text and "FLOAT[]" in text


def test_import_kinetics_command_exits_non_zero_after_importing_the_good_files(tmp_path, capsys):
    folder = tmp_path / "k"
    folder.mkdir()
    write_kinetics_json(folder / "good.json", [[([0.5] * 36, [0.8] * 18)]], "squat", 1)
    (folder / "bad.json").write_text("nope")
    store = tmp_path / "store"
    assert main(["import", "kinetics", str(folder), "--store", str(store), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "bad.json: not valid JSON" in captured.err
    assert "imported 1 videos" in captured.out
    assert main(["query", "SELECT status FROM videos ORDER BY status", "--store", str(store),
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ['"status"', '"failed"', '"ok"']


def test_layouts_command(capsys):
    assert main(["layouts"]) == 0
    assert "openpose18: 18 joints, 17 edges, centre neck" in capsys.readouterr().out
