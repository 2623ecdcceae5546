"""One error boundary for every command: each command that takes a video, given a path that is not
one (a text file, an empty file, a folder, a missing path, a named pipe, a file it may not read),
says so in one line naming the path, exits non-zero, and prints no traceback.

The commands run in one child process (a driver calling ``main`` once per case, its file
descriptors 1 and 2 caught per case, so what native code and Prefect print is caught too). As
root, the child drops the capabilities that let root read any file (``setpriv``), so the
unreadable file is unreadable to it as to anyone else."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

INPUTS = ("notvideo.mp4", "empty.mp4", "folder", "missing.mp4", "fifo.mp4", "unreadable.mp4")
DROP_READ_ANYTHING = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
                      "--inh-caps=-dac_override,-dac_read_search"]

DRIVER = textwrap.dedent("""
    import json, os, sys, tempfile
    from posegraph.flows.cli import main

    cases, results = json.loads(sys.argv[1]), []
    for name, argv in cases:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            saved = os.dup(1), os.dup(2)
            sys.stdout.flush(); sys.stderr.flush()
            os.dup2(out.fileno(), 1); os.dup2(err.fileno(), 2)
            try:
                code = main(argv)
            except BaseException as error:  # what escaped the boundary
                import traceback
                traceback.print_exc()
                code = f"escaped: {type(error).__name__}"
            finally:
                sys.stdout.flush(); sys.stderr.flush()
                os.dup2(saved[0], 1); os.dup2(saved[1], 2)
            out.seek(0); err.seek(0)
            results.append({"name": name, "argv": argv, "code": code,
                            "out": out.read().decode(errors="replace"), "err": err.read().decode(errors="replace")})
    print(json.dumps(results))
""")


def _inputs(folder):
    (folder / "notvideo.mp4").write_text("not a video, a note\n")
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "folder").mkdir()
    os.mkfifo(folder / "fifo.mp4")
    (folder / "unreadable.mp4").write_bytes(b"\x00" * 64)
    (folder / "unreadable.mp4").chmod(0)
    return {name: str(folder / name) for name in INPUTS}


def _commands(video: str, bundle, synthetic_store, out) -> dict[str, list[str]]:
    return {
        "analyse": ["analyse", video, "--bundle", str(bundle)],
        "count": ["count", video],
        "classify": ["classify", video, "--checkpoint", str(bundle.parent / "run")],
        "score": ["score", video, "--reference", str(bundle / "references" / "squat.json")],
        "render": ["render", video, "--store", str(synthetic_store.root), "--out", str(out / "render.mp4")],
        "extract": ["extract", video, "--store", str(out / "extracted"), "--workers", "1", "--quiet"],
        "live": ["live", "--bundle", str(bundle), "--source", video],
    }


@pytest.mark.slow
def test_every_command_says_in_one_line_what_is_wrong_with_a_path_that_is_not_a_video(
        analysis_bundle, synthetic_store, tmp_path):
    root = os.geteuid() == 0
    if root and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: the unreadable file would be readable")
    paths = _inputs(tmp_path)
    (tmp_path / "out").mkdir()
    cases = [(f"{command} {name}", argv) for name in INPUTS
             for command, argv in _commands(paths[name], analysis_bundle, synthetic_store, tmp_path / "out").items()]
    run = subprocess.run([*(DROP_READ_ANYTHING if root else []), sys.executable, "-c", DRIVER, json.dumps(cases)],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(results) == len(INPUTS) * 7
    wrong = []
    for result in results:
        said = result["out"] + result["err"]
        name = result["name"].split()[1]
        if "Traceback" in said or "internal error" in said or not isinstance(result["code"], int) or result["code"] == 0 or name not in said:
            wrong.append(f"{result['name']}: exit {result['code']}\n{said[-1500:]}")
    assert not wrong, "\n\n".join(wrong)
    lines = {result["name"]: [line for line in result["err"].splitlines() if "error" in line] for result in results}
    assert "a named pipe" in lines["count fifo.mp4"][0] and "is a folder" in lines["analyse folder"][0]
    assert "permission denied" in lines["classify unreadable.mp4"][0]
    assert "no such file" in lines["live missing.mp4"][0] and "empty file" in lines["score empty.mp4"][0]


def test_a_bug_is_one_line_pointing_at_its_traceback_not_a_traceback(monkeypatch, capsys):
    from posegraph.flows import cli

    def broken(arguments):
        raise KeyError("a bug")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["count"].set_defaults(run=broken)
    monkeypatch.delenv("POSEGRAPH_DEBUG", raising=False)
    assert cli.main(["count", "x.mp4"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "internal error (KeyError" in error and "this is a bug" in error
    saved = error.rsplit("the traceback is in ", 1)[1].strip()
    assert "Traceback" in open(saved).read() and "a bug" in open(saved).read()
    os.unlink(saved)
    monkeypatch.setenv("POSEGRAPH_DEBUG", "1")
    with pytest.raises(KeyError):
        cli.main(["count", "x.mp4"])
