"""Form scores drawn on the skeleton: red to green by score, grey unscored, the worst frame shown."""

import numpy as np

from posegraph.scoring.score_render import sheet_frames
from posegraph.skeleton import get_layout
from posegraph.skeleton.render import UNSCORED_COLOR, draw_skeleton, score_colors


def test_scores_map_red_through_yellow_to_green_and_unscored_joints_are_grey():
    colors = score_colors(np.array([0.0, 50.0, 100.0, np.nan, 150.0]))
    assert [tuple(int(v) for v in c) for c in colors] == [(0, 0, 255), (0, 255, 255), (0, 255, 0),
                                                          UNSCORED_COLOR, (0, 255, 0)]


def test_joint_colours_replace_the_visibility_colours():
    joints = np.full((33, 4), np.nan, dtype=np.float32)
    joints[0] = [0.25, 0.5, 0, 1.0]  # fully visible, but scored 0: red
    joints[1] = [0.75, 0.5, 0, 1.0]  # unscored: grey
    colors = score_colors(np.r_[0.0, np.nan, np.full(31, 100.0)])
    image = draw_skeleton(np.zeros((100, 100, 3), np.uint8), joints, get_layout("blazepose33"),
                          joint_colors=colors, radius=4)
    assert tuple(image[50, 25]) == (0, 0, 255) and tuple(image[50, 75]) == UNSCORED_COLOR


def test_the_picture_shows_the_worst_frame_among_evenly_spaced_ones():
    scores = np.full(100, 90.0)
    scores[:10] = np.nan  # nobody in the first frames
    scores[47] = 12.0
    picks = sheet_frames(scores)
    assert 47 in picks and len(picks) == 8 and picks.min() >= 10
    assert list(picks) == sorted(set(picks))
    assert list(sheet_frames(np.full(3, np.nan))) == [0, 1, 2]
