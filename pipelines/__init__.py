"""dlzoo pipelines: config, tf.data input pipelines, training, evaluation, export, CLI.

Kept import-light on purpose: `models` imports `pipelines.errors` and
`pipelines.registry`, so nothing heavy may run here.
"""
