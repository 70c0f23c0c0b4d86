"""The architecture catalog: one family per module, each builder registered by name.

`models.catalog` imports every family (read the registry through it); this package
imports none, so `models.manifest` answers what the catalog holds without Keras.
"""
