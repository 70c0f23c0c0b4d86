"""Explanations and adversarial robustness for dlzoo classifiers.

Attributions (gradients, gradient x input, SmoothGrad, Integrated Gradients,
Grad-CAM, occlusion; tf-explain where it has the method), LIME (images, tables,
text), attacks (FGSM, BIM/PGD in L-inf and L2, adversarial patch), robustness
curves, adversarial training, and measured explanation quality.

Kept import-light: `pipelines.config.experiment` imports `explain.config`; everything heavy is
imported by the module that needs it.
"""
