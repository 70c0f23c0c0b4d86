"""Every stage after training, by the module that registers it: importing this module
registers them all (`pipelines.run` does). One line per module.
"""

import pipelines.stages.activation_stats  # noqa: F401  (activations)
import pipelines.stages.attack  # noqa: F401  (attack)
import pipelines.stages.cam  # noqa: F401  (cam)
import pipelines.stages.claims  # noqa: F401  (claim)
import pipelines.stages.embedding_bias  # noqa: F401  (word-vector bias, hard debiasing)
import pipelines.stages.explain  # noqa: F401  (explain)
import pipelines.stages.learning_rule  # noqa: F401  (learning_rule)
import pipelines.stages.linear_regions  # noqa: F401  (linear_regions)
import pipelines.stages.published  # noqa: F401  (published numbers side by side)
import pipelines.stages.text_data  # noqa: F401  (text data report section)
import pipelines.stages.variance_reduction  # noqa: F401  (variance_reduction)
