"""Explicit list of the modules that register tasks and post-training stages.

`pipelines.run` imports this module, so a
task or stage exists as soon as its module is listed here (no import side effects
hidden elsewhere). Add one line per module.
"""

import pipelines.stages.activation_stats  # noqa: F401  (activations stage)
import pipelines.stages.cam  # noqa: F401  (cam stage)
import pipelines.stages.claims  # noqa: F401  (claim stage)
import pipelines.stages.explain  # noqa: F401  (explain and attack stages)
import pipelines.stages.published  # noqa: F401  (stage: published numbers side by side)
import pipelines.tasks.base  # noqa: F401  (classify)
import pipelines.tasks.deep_supervision  # noqa: F401  (classify_aux)
import pipelines.tasks.generative.task  # noqa: F401  (generative, autoencoder)
import pipelines.tasks.segment  # noqa: F401  (segment)
import pipelines.tasks.sequence.classify  # noqa: F401  (sequence: RNN/CNN/bag classifiers)
import pipelines.tasks.sequence.data_report  # noqa: F401  (stage: text data report section)
import pipelines.tasks.sequence.language_model  # noqa: F401  (language_model)
import pipelines.tasks.sequence.memn2n  # noqa: F401  (qa: memory networks on bAbI)
import pipelines.tasks.sequence.seq2seq  # noqa: F401  (seq2seq)
import pipelines.tasks.sequence.skipgram  # noqa: F401  (skipgram)
