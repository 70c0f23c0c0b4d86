"""Every task, by the module that registers it: importing this module registers them
all (`pipelines.tasks.assemble` does, before it looks a task up). One line per module.
"""

import pipelines.tasks.classify  # noqa: F401  (classify)
import pipelines.tasks.deep_supervision  # noqa: F401  (classify_aux)
import pipelines.tasks.generative.task  # noqa: F401  (generative, autoencoder)
import pipelines.tasks.learning_rule  # noqa: F401  (learning_rule: perceptron, Adaline, Hebb)
import pipelines.tasks.pivot  # noqa: F401  (pivot: a classifier made independent of a nuisance)
import pipelines.tasks.regress  # noqa: F401  (regress: function approximation)
import pipelines.tasks.segment  # noqa: F401  (segment)
import pipelines.tasks.sequence.classify  # noqa: F401  (sequence: RNN/CNN/bag classifiers)
import pipelines.tasks.sequence.language_model  # noqa: F401  (language_model)
import pipelines.tasks.sequence.memn2n  # noqa: F401  (qa: memory networks on bAbI)
import pipelines.tasks.sequence.seq2seq  # noqa: F401  (seq2seq)
import pipelines.tasks.sequence.skipgram  # noqa: F401  (skipgram)
