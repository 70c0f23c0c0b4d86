"""Every registered data source. Importing this module registers them (explicitly)."""

from pipelines.data import (  # noqa: F401  (registers)
    builtin,
    files,
    functions,  # noqa: F401  (registers: function)
    nuisance,  # noqa: F401  (registers pivot_gaussians)
    plane,  # noqa: F401  (registers separable, circles)
    text_sources,  # noqa: F401  (registers)
    tfds_source,
)
from pipelines.data.source import INJECTED, SOURCES, SourceData, Split, register_source

__all__ = ["INJECTED", "SOURCES", "SourceData", "Split", "register_source"]
