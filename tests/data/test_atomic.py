from pathlib import Path

import pytest

from posegraph.data.atomic import replace_text


def test_replace_text_keeps_the_old_file_whole_when_a_write_dies_midway(tmp_path, monkeypatch):
    target = tmp_path / "run" / "history.json"
    replace_text(target, "[1, 2]")
    assert target.read_text() == "[1, 2]"
    real_write_text = Path.write_text

    def dies_midway(self, text, *args, **kwargs):
        real_write_text(self, text[: len(text) // 2])
        raise OSError("disk full")
    monkeypatch.setattr(Path, "write_text", dies_midway)
    with pytest.raises(OSError, match="disk full"):
        replace_text(target, "[1, 2, 3, 4]")
    monkeypatch.undo()
    assert target.read_text() == "[1, 2]"
    replace_text(target, "[1, 2, 3]")
    assert target.read_text() == "[1, 2, 3]" and [p.name for p in target.parent.iterdir()] == ["history.json"]
