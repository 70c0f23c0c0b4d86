"""dlzoo pipelines: config, tf.data input pipelines, training, evaluation, export, CLI.

Kept import-light on purpose: `models` imports `common.errors` and
`common.registry`, so nothing heavy may run here.
"""
