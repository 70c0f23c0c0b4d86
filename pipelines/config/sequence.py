"""Recipe sections of the sequence tasks: `sequence:` (decoding, generation and
embedding queries the report shows) and `published:` (numbers from a paper to put
side by side with a run's or a sweep's). Pydantic only: `pipelines.config.experiment` imports
this module at load time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from common.config import Strict
from pipelines.stages.published_numbers import TABLES


class SequenceConfig(Strict):
    """How sequence models are decoded, sampled and queried after training."""

    decode: Literal["greedy", "beam"] = Field("greedy", description="seq2seq decoding")
    beam_width: int = Field(4, ge=1, le=64)
    length_penalty: float = Field(
        0.0, ge=0, description="beam: scores divided by length**alpha (0: raw log-probability)"
    )
    examples: int = Field(8, ge=0, description="example outputs shown in the report")
    attention_examples: int = Field(4, ge=0, description="attention heatmaps in the report")
    prompts: list[str] = Field(default_factory=lambda: [""], description="language-model seeds")
    temperatures: list[float] = Field(default_factory=lambda: [0.2, 0.5, 1.0])
    generate_length: int = Field(200, gt=0, le=5000)
    export_temperature: float = Field(
        0.0, ge=0, description="sampling temperature inside the exported generator (0: greedy)"
    )
    neighbours: list[str] = Field(default_factory=list, description="skip-gram query words")
    neighbours_k: int = Field(5, ge=1)
    analogies: str | None = Field(
        None, description="skip-gram: file of `a b c d` lines (a is to b as c is to d)"
    )

    @field_validator("temperatures")
    @classmethod
    def _non_negative(cls, values: list[float]) -> list[float]:
        if any(t < 0 for t in values):
            raise ValueError("sequence.temperatures: give values >= 0 (0 is greedy)")
        return values


class PublishedConfig(Strict):
    """Compare test accuracy with a published table, row by row."""

    table: str = Field(description="a table of pipelines.stages.published_numbers (TABLES)")
    by: str = Field(description="the config key whose value names the row, e.g. model.name")

    @field_validator("table")
    @classmethod
    def _known_table(cls, name: str) -> str:
        if name not in TABLES:
            raise ValueError(f"unknown published table {name!r}; known: {', '.join(TABLES)}")
        return name
