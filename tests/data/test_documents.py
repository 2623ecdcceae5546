"""The one reader of versioned plain-data files: JSON or YAML, its format field checked, every
problem one error of the caller's type naming the file, what it should be and what to do."""

import pytest

from posegraph.data.documents import check_format, read_document


class MadeUpError(ValueError):
    pass


def test_a_document_of_the_format_reads_as_json_or_yaml(tmp_path):
    (tmp_path / "a.json").write_text('{"format": "thing/2", "value": 3}')
    (tmp_path / "a.yaml").write_text("format: thing/1\nvalue: 4\n")
    assert read_document(tmp_path / "a.json", ("thing/1", "thing/2"), "a thing", "make one")["value"] == 3
    assert read_document(tmp_path / "a.yaml", "thing/1", "a thing", "make one")["value"] == 4


@pytest.mark.parametrize("text, says", [('{"format": "other/1"}', "format 'other/1'; this posegraph reads thing/1"),
                                        ("[1, 2]", "format 'list'"), ("{", "not readable as a thing")])
def test_another_format_or_a_broken_file_is_the_callers_error_naming_the_file(tmp_path, text, says):
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(MadeUpError, match=says) as raised:
        read_document(path, "thing/1", "a thing", "make one with posegraph thing", MadeUpError)
    assert str(path) in str(raised.value) and "make one with posegraph thing" in str(raised.value)


def test_a_missing_file_and_text_from_elsewhere(tmp_path):
    with pytest.raises(MadeUpError, match="no such file"):
        read_document(tmp_path / "none.yaml", "thing/1", "a thing", "make one", MadeUpError)
    assert check_format({"kind": "thing/1"}, "s3://bucket/x", "thing/1", "a thing", "make one", field="kind")
    with pytest.raises(ValueError, match="s3://bucket/x: not a thing"):
        check_format({"kind": "thing/0"}, "s3://bucket/x", "thing/1", "a thing", "make one", field="kind")
