"""Which muscle groups an exercise works: the table behind posegraph's muscle-group head.

The table is plain data (``muscle_groups.yaml`` beside this module, the source study's 16
exercises and 11 groups); a user's own YAML file of the same shape replaces it. Videos carry an
exercise label; their muscle labels come from it through the table, and an exercise the table does
not list is an error naming it, never an exercise that works no muscles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

DEFAULT_MUSCLE_TABLE = Path(__file__).with_name("muscle_groups.yaml")


class UnknownExerciseError(ValueError):
    """Exercises that the muscle table has no row for."""


def exercise_key(name: str) -> str:
    """How names are matched: lower case, letters and digits only ("Push-up" = "push_up" = "pushup")."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


@dataclass(frozen=True)
class MuscleTable:
    """Muscle groups (in output order) and the groups each exercise works."""

    groups: tuple[str, ...]
    exercises: dict[str, tuple[str, ...]] = field(hash=False)
    aliases: dict[str, str] = field(default_factory=dict, hash=False)  # other spelling -> exercise
    source: str = "(built in)"

    def groups_of(self, exercise: str) -> tuple[str, ...] | None:
        """The groups ``exercise`` works, or ``None`` when the table does not list it."""
        by_key = {exercise_key(name): groups for name, groups in self.exercises.items()}
        key = exercise_key(exercise)
        if key not in by_key:
            target = {exercise_key(alias): name for alias, name in self.aliases.items()}.get(key)
            return None if target is None else self.exercises[target]
        return by_key[key]

    def membership(self, exercises: list[str]) -> np.ndarray:
        """``(len(exercises), len(groups))`` float32: 1 where the exercise works the group.

        Raises :class:`UnknownExerciseError` naming every exercise the table lacks.
        """
        missing = [name for name in exercises if self.groups_of(name) is None]
        if missing:
            raise UnknownExerciseError(
                f"the muscle table {self.source} has no row for {', '.join(missing)}: add each as "
                f"'{exercise_key(missing[0]) or missing[0]}: [group, ...]' to a copy of it and pass --muscle-table FILE, "
                f"or leave those exercises out of training (--set labels=[...])")
        matrix = np.zeros((len(exercises), len(self.groups)), dtype=np.float32)
        position = {group: index for index, group in enumerate(self.groups)}
        for row, name in enumerate(exercises):
            for group in self.groups_of(name):
                matrix[row, position[group]] = 1.0
        return matrix

    def to_dict(self) -> dict:
        return {"groups": list(self.groups), "exercises": {name: list(groups) for name, groups in self.exercises.items()},
                "aliases": dict(self.aliases), "source": self.source}

    @classmethod
    def from_dict(cls, content: dict, source: str | None = None) -> "MuscleTable":
        """A table from its mapping form, checked: every group of every exercise is declared."""
        source = source or (content.get("source") if isinstance(content, dict) else None) or "(built in)"
        if not isinstance(content, dict) or not isinstance(content.get("groups"), list) \
                or not isinstance(content.get("exercises"), dict):
            raise ValueError(f"{source}: a muscle table needs 'groups: [...]' and 'exercises: {{name: [groups]}}'")
        groups = tuple(str(group) for group in content["groups"])
        if not groups or len(set(groups)) != len(groups):
            raise ValueError(f"{source}: 'groups' must list each muscle group once (got {list(groups)})")
        exercises: dict[str, tuple[str, ...]] = {}
        seen: dict[str, str] = {}
        for name, worked in content["exercises"].items():
            name = str(name)
            if not isinstance(worked, list) or not worked:
                raise ValueError(f"{source}: exercise {name!r} needs a list of at least one muscle group")
            unknown = [group for group in worked if group not in groups]
            if unknown:
                raise ValueError(f"{source}: exercise {name!r} names {', '.join(map(str, unknown))}, not among "
                                 f"the groups ({', '.join(groups)})")
            if exercise_key(name) in seen:
                raise ValueError(f"{source}: exercises {seen[exercise_key(name)]!r} and {name!r} are the same name")
            seen[exercise_key(name)] = name
            exercises[name] = tuple(str(group) for group in worked)
        aliases = {str(alias): str(target) for alias, target in (content.get("aliases") or {}).items()}
        for alias, target in aliases.items():
            if target not in exercises:
                raise ValueError(f"{source}: alias {alias!r} points to {target!r}, which is not an exercise of the table")
        return cls(groups, exercises, aliases, source)


def load_muscle_table(path: str | Path | None = None) -> MuscleTable:
    """The table in ``path`` (YAML), or the built-in one (the source study's) when ``None``."""
    from posegraph.data.yaml_file import read_yaml

    path = Path(path) if path is not None else DEFAULT_MUSCLE_TABLE
    content = read_yaml(path, "muscle table")
    source = "built-in table (source study)" if path == DEFAULT_MUSCLE_TABLE else str(path)
    return MuscleTable.from_dict(content, source)


def save_muscle_table(table: MuscleTable, path: str | Path) -> Path:
    path = Path(path)
    content = {key: value for key, value in table.to_dict().items() if key != "source"}
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path
