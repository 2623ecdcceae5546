from collections import Counter

from posegraph.gcn.splits import few_shot_subsets, group_split, stratified_split


def test_stratified_split_keeps_label_proportions():
    labels = ["a"] * 40 + ["b"] * 20
    splits = stratified_split(labels, seed=3)
    counts = Counter(zip(labels, splits))
    assert counts[("a", "train")] == 28 and counts[("b", "train")] == 14
    assert counts[("a", "test")] == 6 and counts[("b", "val")] == 3


def test_group_split_never_straddles_a_subject():
    groups = [f"s{i % 10}" for i in range(100)]
    labels = [f"c{i % 5}" for i in range(100)]
    splits = group_split(labels, groups, seed=1)
    by_group = {}
    for group, split in zip(groups, splits):
        by_group.setdefault(group, set()).add(split)
    assert all(len(names) == 1 for names in by_group.values())
    assert set(splits) == {"train", "val", "test"}
    assert 60 <= splits.count("train") <= 80


def test_few_shot_subsets_are_nested_seeded_and_k_per_class():
    labels = [f"c{i % 4}" for i in range(400)]
    subsets = few_shot_subsets(labels, seed=5)
    assert list(subsets) == [5, 10, 20, 50, 100]
    for small, large in zip(list(subsets.values()), list(subsets.values())[1:]):
        assert set(small) < set(large)
    assert Counter(labels[i] for i in subsets[10]) == {f"c{k}": 10 for k in range(4)}
    assert subsets == few_shot_subsets(labels, seed=5)
    assert subsets[5] != few_shot_subsets(labels, seed=6)[5]
