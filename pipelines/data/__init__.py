"""tf.data input pipelines: sources, augmentation, normalization, batching."""
