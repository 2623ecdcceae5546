"""Words every package shares, defined once here at the bottom of the layering (no numpy, no OpenCV).

``DEFAULT_FPS`` is the rate extraction samples at unless told otherwise, and the rate assumed for
stored rows that record none; ``UNTIMED_FPS`` the rate of poses or videos that state none. The repetition-phase schemes are the source study's three ways of
labelling each frame of a repetition (:mod:`posegraph.scoring.phase_labels` derives the labels,
:mod:`posegraph.gcn.phases` trains on them); the store also keeps plain repetition ranges.
"""

from __future__ import annotations

DEFAULT_FPS = 16.0  # frames per second
# The frame rate assumed for poses that carry no clock of their own (landmark files, Penn Action's
# frames, Kinetics skeleton JSON, RepCount's pose rows) and for a video container that states
# none: the rate of most phone and webcam footage. Every such default is this one name.
UNTIMED_FPS = 30.0  # frames per second

PHASE_SCHEMES = ("end", "middle_end", "halves")
PHASE_NAMES = {"end": ("end", "within"), "middle_end": ("end", "middle", "within"),
               "halves": ("first", "none", "second")}  # each scheme's classes, in the models' class order
PHASE_BACKGROUND = {"end": "within", "middle_end": "within", "halves": "none"}  # the label outside events
STORED_PHASE_SCHEMES = ("repetitions",) + PHASE_SCHEMES  # the store's phases table: ranges, or a scheme's labels
