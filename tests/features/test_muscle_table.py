"""The muscle table: the built-in one is the source study's, round-trips through YAML, and refuses
what it cannot answer (unknown exercises, undeclared groups) by name."""

import re
from pathlib import Path

import numpy as np
import pytest

from posegraph.features.muscles import (DEFAULT_MUSCLE_TABLE, MuscleTable, UnknownExerciseError, exercise_key,
                                        load_muscle_table, save_muscle_table)

BACKGROUND = Path(__file__).resolve().parents[3] / "shared" / "background" / "x3d-slowfast-exercise-and-muscle-groups.txt"


def test_the_built_in_table_has_the_studys_16_exercises_and_11_groups():
    table = load_muscle_table()
    assert len(table.exercises) == 16 and len(table.groups) == 11
    assert table.groups_of("squat") == ("quads", "glutes", "hamstrings")
    assert table.groups_of("Push-up") == table.groups_of("pushup") == ("chest", "triceps", "shoulders")
    assert table.groups_of("deadlift") == ("glutes", "lower_back", "hamstrings")
    assert table.groups_of("biceps_curl") == ("biceps",)  # an alias


@pytest.mark.skipif(not BACKGROUND.exists(), reason=f"the source study's text is not at {BACKGROUND}")
def test_the_built_in_table_is_table_1_of_the_source_study():
    text = BACKGROUND.read_text()
    rows = text.split("Exercise\tActivated Muscle Groups\n", 1)[1].split("\n\n", 1)[0].strip().splitlines()
    assert len(rows) == 16
    table = load_muscle_table()
    spelled = {"bicep": "biceps", "lower back": "lower_back"}
    for row in rows:
        exercise, groups = row.split("\t")
        expected = {spelled.get(group.strip(), group.strip()) for group in groups.split(",")}
        assert set(table.groups_of(exercise)) == expected, exercise


def test_round_trip_through_yaml(tmp_path):
    table = load_muscle_table()
    again = load_muscle_table(save_muscle_table(table, tmp_path / "mine.yaml"))
    assert again.groups == table.groups and again.exercises == table.exercises and again.aliases == table.aliases
    assert again.source == str(tmp_path / "mine.yaml")
    assert MuscleTable.from_dict(table.to_dict()).exercises == table.exercises


def test_membership_rows_follow_the_class_order():
    table = load_muscle_table()
    matrix = table.membership(["squat", "bicep_curl"])
    assert matrix.shape == (2, 11) and matrix.dtype == np.float32
    assert [table.groups[i] for i in np.flatnonzero(matrix[0])] == ["glutes", "hamstrings", "quads"]
    assert [table.groups[i] for i in np.flatnonzero(matrix[1])] == ["biceps"]


def test_an_exercise_missing_from_the_table_is_named_never_given_no_muscles():
    with pytest.raises(UnknownExerciseError, match=r"no row for lunge, jumping_jack.*--muscle-table"):
        load_muscle_table().membership(["squat", "lunge", "jumping_jack"])


def test_a_table_naming_an_undeclared_group_is_refused_with_file_and_exercise(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("groups: [quads]\nexercises:\n  squat: [quads, calves]\n")
    with pytest.raises(ValueError, match=re.escape(str(path)) + r".*'squat' names calves"):
        load_muscle_table(path)
    path.write_text("groups: [quads]\nexercises:\n  squat: [quads]\n  Squat: [quads]\n")
    with pytest.raises(ValueError, match="same name"):
        load_muscle_table(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_muscle_table(tmp_path / "absent.yaml")


def test_names_match_without_case_or_punctuation():
    assert exercise_key("T-Bar Row") == exercise_key("t_bar_row") == "tbarrow"
    assert DEFAULT_MUSCLE_TABLE.exists()
