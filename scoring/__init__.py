"""Form scoring: how close an execution is to good form, frame by frame and joint by joint.

``FormReference.fit(sequences, layout, exercise)`` learns good form of one exercise from
skeletons of good executions (density clusters of normalised poses, HDBSCAN);
``reference.score(joints)`` returns a :class:`FormScore` (0-100 per joint and frame, per frame,
running, whole video, the three worst joints); ``save`` / ``load`` exchange it as one versioned
JSON file. Cheap to import: ``hdbscan`` is loaded only when a reference is fitted.

Modules, one rule each: ``normalise`` (body frame), ``outliers`` (frames left out), ``phases``
(the default, phase-aware model), ``joint_clusters`` (the source's per-joint baseline),
``mapping`` (deviation -> 0-100), ``running`` (running score), ``result`` (summaries),
``artifact`` (the file), ``reference`` (the API).

``count_repetitions(joints, layout, fps, exercise)`` counts repetitions without training or labels
(``counting``, finding the sets first with ``periodicity``); it returns a :class:`RepetitionCount`
with each repetition's turning point, start and end, and the :class:`RepetitionSet` found.

What the command line says about one video: ``count_report`` (the count of a
:class:`~posegraph.skeleton.source.SkeletonSource`, live or offline, its plot and store rows),
``score_report`` (fitting, naming and loading references; a video's score report) and
``score_render`` (scores drawn on the skeleton). ``sources`` picks a reference's stored videos
and turns a score into the store's rows; ``phase_labels`` derives per-frame repetition phases.
"""

from .artifact import ReferenceFileError
from .counting import CONSENSUS, CounterRatios, OnlineRepetitionCounter, RepetitionCount, RepetitionSet, count_repetitions
from .reference import FitOptions, FormReference
from .result import FormScore, WorstJoint

__all__ = ["CONSENSUS", "CounterRatios", "FitOptions", "FormReference", "FormScore", "OnlineRepetitionCounter", "ReferenceFileError",
           "RepetitionCount", "RepetitionSet", "WorstJoint",
           "count_repetitions"]
