"""The application layer: what people use the models for, between the models (``gcn/``) and the
entry points (``flows/``: the command line, the Prefect flows, the servers, the demo).

- :mod:`.analysis`: the whole answer for one video (exercise, sets, repetitions, form, cues);
- :mod:`.analysis_bundle`: the analysis bundle, the folder everything above reads;
- :mod:`.classifiers`: one way to open any classifier (run folder, checkpoint, ONNX export,
  ensemble, a bundle's classifier) as a :class:`~posegraph.gcn.classifier.Classifier`;
- :mod:`.live` and :mod:`.live_loop`: the same services fed one frame at a time;
- :mod:`.video_commands`: the count, score and classify services of the command line;
- :mod:`.phase_counting`: counting with a trained phase model;
- :mod:`.exporting`: a model or a whole bundle as ONNX.

Cheap to import: every module imports its heavy libraries (torch, OpenCV, MediaPipe) where used.
"""
