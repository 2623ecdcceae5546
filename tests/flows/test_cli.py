import json
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_every_option_has_help_and_the_top_help_has_examples():
    import argparse

    from posegraph.flows.cli import build_parser

    missing = []

    def walk(parser, words):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, words + [name])
            elif action.dest != "help" and not action.help:
                missing.append(" ".join(words + (action.option_strings or [action.dest])))

    walk(build_parser(), ["posegraph"])
    assert missing == []
    assert "examples:" in build_parser().format_help()


def test_version_and_a_closed_pipe():
    posegraph = str(Path(sys.executable).parent / "posegraph")
    version = subprocess.run([posegraph, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("posegraph 0.")
    piped = subprocess.run(f"'{posegraph}' layouts --joints | head -n 2", shell=True, capture_output=True, text=True)
    assert len(piped.stdout.splitlines()) == 2
    assert "BrokenPipeError" not in piped.stderr and "Traceback" not in piped.stderr


def test_ordinary_mistakes_are_one_line(tmp_path, capsys):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("hello")
    assert main(["query", "SELECT 1", "--store", str(not_a_folder)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "is a file, not a skeleton store" in error
    assert main(["extract", str(tmp_path / "missing"), "--store", str(tmp_path / "s")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no such file or folder" in error


@pytest.mark.slow
def test_training_commands_check_their_inputs_before_the_flow(store, tmp_path):
    """A missing store, checkpoint or muscle table is one line, not Prefect's traceback of the failed flow first."""
    broken = tmp_path / "table.yaml"
    broken.write_text("a: [\n")
    (tmp_path / "run").mkdir()
    good = str(store.root)
    posegraph = str(Path(sys.executable).parent / "posegraph")
    cases = {("evaluate", str(tmp_path / "run"), "--store", good): "no best.pt yet",
             ("ensemble", "--checkpoints", str(tmp_path / "a.pt"), str(tmp_path / "b.pt"), "--store", good):
                 "a.pt: no such file",
             ("train", "--model", "bilstm", "--store", str(tmp_path / "nowhere")): "no skeleton store",
             ("train", "--model", "bilstm", "--store", good, "--muscle-table", str(broken)): "not readable YAML",
             ("train", "--store", good, "--init", str(tmp_path / "kinetics.pt")): "kinetics.pt: no such file",
             ("train", "--store", good, "--init", str(broken)): "table.yaml"}
    for command, expected in cases.items():
        run = subprocess.run([posegraph, *command], capture_output=True, text=True, timeout=300)
        assert run.returncode == 2 and run.stderr.count("\n") == 1 and expected in run.stderr, (command, run.stderr)
