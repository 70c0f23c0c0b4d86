"""Every registered data source. Importing this module registers them (explicitly)."""

from pipelines.data import builtin, files, tfds_source  # noqa: F401  (registers)
from pipelines.data.source import INJECTED, SOURCES, SourceData, Split, register_source

__all__ = ["INJECTED", "SOURCES", "SourceData", "Split", "register_source"]
