"""The `data.text` section: how text and token sequences are vectorized.

Kept free of TensorFlow (pydantic only) because `pipelines.config.experiment` imports it at
load time. `pipelines.data.text` does the work these settings describe.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from common.config import Strict

Standardize = Literal[
    "lower_and_strip_punctuation",
    "lower",
    "strip_punctuation",
    "lower_and_split_punctuation",
    "none",
]
Level = Literal["word", "char"]


class TextConfig(Strict):
    """Vectorization of text sources (fitted on the training split only)."""

    level: Level = Field("word", description="tokens are words or characters")
    standardize: Standardize | None = Field(
        None,
        description="default: lower_and_strip_punctuation for words, none for characters",
    )
    max_tokens: int | None = Field(
        None, ge=4, description="vocabulary size cap, padding and [UNK] included; None: all"
    )
    min_coverage: float = Field(
        0.5,
        ge=0,
        le=1,
        description="fail when the vocabulary covers less than this share of training tokens",
    )
    sequence_length: int | None = Field(
        None, gt=0, description="max tokens per example; None: the longest training example"
    )
    too_long: Literal["truncate", "error"] = Field(
        "truncate", description="longer examples are cut (with a counted warning) or rejected"
    )
    bucket_boundaries: list[int] | None = Field(
        None,
        description="batch by length (tf.data bucket_by_sequence_length); pads per batch",
    )
    # Sentence pairs (seq2seq): the target side; None = same as the source side.
    target_level: Level | None = None
    target_standardize: Standardize | None = None
    target_max_tokens: int | None = Field(None, ge=4)
    target_sequence_length: int | None = Field(
        None, gt=0, description="max target tokens; None: the longest training target"
    )
    # Raw corpora: which examples to cut from the token stream.
    examples: Literal["next_token", "skipgram"] = Field(
        "next_token", description="corpora: windows for a language model, or skip-gram pairs"
    )
    stride: int | None = Field(
        None, gt=0, description="next_token: step between windows; None: sequence_length"
    )
    window: int = Field(2, gt=0, description="skip-gram: context words on each side")
    negatives: int = Field(4, gt=0, description="skip-gram: negative samples per pair")
    subsample: float = Field(
        1e-3, ge=0, description="skip-gram: Mikolov's frequent-word subsampling t (0: off)"
    )
    # Stories (bAbI): how many of the latest sentences the memory holds.
    memory_size: int = Field(50, gt=0)

    @model_validator(mode="after")
    def _check_buckets(self) -> TextConfig:
        bounds = self.bucket_boundaries
        if bounds is not None and (not bounds or sorted(set(bounds)) != bounds or bounds[0] < 1):
            raise ValueError(
                "data.text.bucket_boundaries: give increasing positive lengths, e.g. [10, 20, 40]"
            )
        return self

    def standardize_for(self, side: str = "source") -> str:
        """The effective standardization of one side ("source" or "target")."""
        level = self.level_for(side)
        chosen = self.standardize if side == "source" else self.target_standardize
        if side == "target" and chosen is None:
            chosen = self.standardize
        if chosen is None:
            return "none" if level == "char" else "lower_and_strip_punctuation"
        return chosen

    def level_for(self, side: str = "source") -> str:
        return self.target_level or self.level if side == "target" else self.level
