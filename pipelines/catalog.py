"""Explicit list of the modules that register tasks and post-training stages.

`pipelines.tasks.task_for` and `pipelines.run.run_all` import this module, so a
task or stage exists as soon as its module is listed here (no import side effects
hidden elsewhere). Add one line per module.
"""

import explain.stages  # noqa: F401  (explain and attack stages)
import pipelines.activation_stats  # noqa: F401  (activations stage)
import pipelines.cam  # noqa: F401  (cam stage)
import pipelines.claims  # noqa: F401  (claim stage)
import pipelines.deep_supervision  # noqa: F401  (classify_aux)
import pipelines.generative  # noqa: F401  (generative, autoencoder)
import pipelines.segment  # noqa: F401  (segment)
import pipelines.sequence.classify  # noqa: F401  (sequence: RNN/CNN/bag classifiers)
import pipelines.sequence.compare  # noqa: F401  (stage: published numbers side by side)
import pipelines.sequence.data_report  # noqa: F401  (stage: text data report section)
import pipelines.sequence.language_model  # noqa: F401  (language_model)
import pipelines.sequence.memn2n  # noqa: F401  (qa: memory networks on bAbI)
import pipelines.sequence.seq2seq  # noqa: F401  (seq2seq)
import pipelines.sequence.skipgram  # noqa: F401  (skipgram)
import pipelines.tasks  # noqa: F401  (classify)
