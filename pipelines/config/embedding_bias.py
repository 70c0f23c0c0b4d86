"""The `embedding_bias:` recipe section: gender bias in word vectors and hard debiasing
(Bolukbasi et al. 2016; pipelines/stages/embedding_bias.py runs it, explain/embedding_bias.py
computes it). Pydantic only: `pipelines.config.experiment` imports this module at load.

```yaml
embedding_bias:
  embedding_file: null        # also analyse a word2vec text file (GloVe, fastText .vec)
  definitional_pairs: [[she, he], [her, his], [woman, man]]   # (female, male)
  direction: pca              # or first_pair: g = she - he
  occupations: [doctor, nurse, teacher, programmer]
  neutralize: all             # every word but the gender-specific ones, or occupations
```

Words are matched as written (dlzoo's skip-gram vocabulary is lower case).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from common.config import Strict

Pair = tuple[str, str]

# Bolukbasi et al.'s ten definitional pairs, lower case, the female word first.
DEFINITIONAL = [("woman", "man"), ("girl", "boy"), ("she", "he"), ("mother", "father"),
                ("daughter", "son"), ("gal", "guy"), ("female", "male"), ("her", "his"),
                ("herself", "himself"), ("mary", "john")]
# Their equalize pairs (single words, lower case, each word once, the female word first).
EQUALIZE = [("she", "he"), ("her", "his"), ("herself", "himself"), ("woman", "man"),
            ("women", "men"), ("girl", "boy"), ("girls", "boys"), ("mother", "father"),
            ("mothers", "fathers"), ("daughter", "son"), ("daughters", "sons"),
            ("sister", "brother"), ("sisters", "brothers"), ("wife", "husband"),
            ("wives", "husbands"), ("queen", "king"), ("queens", "kings"), ("aunt", "uncle"),
            ("niece", "nephew"), ("lady", "gentleman"), ("ladies", "gentlemen"),
            ("grandmother", "grandfather"), ("granddaughter", "grandson"),
            ("princess", "prince"), ("mom", "dad"), ("female", "male"),
            ("females", "males"), ("actress", "actor"), ("waitress", "waiter"),
            ("spokeswoman", "spokesman"), ("chairwoman", "chairman"),
            ("businesswoman", "businessman"), ("girlfriend", "boyfriend")]
GENDER_SPECIFIC = ["him", "hers", "ms", "mrs", "mr", "sir", "madam", "guys", "gals",
                   "fiancee", "fiance", "bride", "groom", "nun", "monk"]
# The extremes of Bolukbasi et al.'s figure 1 and everyday occupations.
OCCUPATIONS = ["homemaker", "nurse", "receptionist", "librarian", "hairdresser", "nanny",
               "bookkeeper", "stylist", "housekeeper", "maestro", "skipper", "philosopher",
               "captain", "architect", "financier", "warrior", "magician", "programmer",
               "engineer", "doctor", "teacher", "lawyer", "scientist", "professor",
               "student", "secretary", "manager", "boss", "cook", "chef", "farmer",
               "singer", "dancer", "artist", "writer", "painter", "pilot", "soldier",
               "driver", "dentist", "president", "police"]
ANALOGIES = [("man", "woman", "programmer"), ("he", "she", "programmer"),
             ("man", "woman", "king"), ("he", "she", "doctor"), ("he", "she", "boss"),
             ("his", "her", "teacher")]


class EmbeddingBiasConfig(Strict):
    """The probe, the direction, the words scored and what hard debiasing changes."""

    embedding_file: str | None = Field(
        None, description="a word2vec text file analysed besides the trained vectors "
        "(`dlzoo embedding-bias FILE` analyses one without training)")
    definitional_pairs: list[Pair] = Field(
        default_factory=lambda: list(DEFINITIONAL), min_length=1,
        description="(female, male) pairs that define the gender direction")
    direction: Literal["pca", "first_pair"] = Field(
        "pca", description="pca: first principal component of the pairs (Bolukbasi); "
        "first_pair: the first present pair's difference (she - he)")
    occupations: list[str] = Field(
        default_factory=lambda: list(OCCUPATIONS), min_length=1,
        description="gender-neutral words scored on the direction (DirectBias)")
    gender_specific: list[str] = Field(
        default_factory=lambda: list(GENDER_SPECIFIC),
        description="never neutralized, besides the words of both pair lists")
    equalize_pairs: list[Pair] = Field(
        default_factory=lambda: list(EQUALIZE),
        description="made equidistant from every neutral word")
    neutralize: Literal["all", "occupations"] = Field(
        "all", description="all: every word not gender-specific (Bolukbasi); or only the "
        "occupations")
    direct_bias_c: float = Field(1.0, gt=0, description="strictness c of DirectBias_c")
    analogies: list[tuple[str, str, str]] = Field(
        default_factory=lambda: list(ANALOGIES),
        description="a : b :: c : ? probes, answered before and after debiasing")
    top_k: int = Field(3, ge=1, le=20, description="analogy answers shown per probe")

    @field_validator("definitional_pairs", "equalize_pairs")
    @classmethod
    def _two_words(cls, pairs: list[Pair], info) -> list[Pair]:
        same = [p for p in pairs if p[0] == p[1] or not p[0].strip()]
        if same:
            raise ValueError(f"embedding_bias.{info.field_name}: each pair needs two "
                             f"different words, got {list(same[0])}")
        return pairs

    @field_validator("equalize_pairs")
    @classmethod
    def _each_word_once(cls, pairs: list[Pair]) -> list[Pair]:
        words = [w for pair in pairs for w in pair]
        twice = sorted({w for w in words if words.count(w) > 1})
        if twice:
            raise ValueError(f"embedding_bias.equalize_pairs: a word can be equalized with "
                             f"one partner only; {', '.join(twice)} appear(s) twice")
        return pairs

    @field_validator("occupations")
    @classmethod
    def _words(cls, words: list[str]) -> list[str]:
        if any(not w.strip() or len(w.split()) != 1 for w in words):
            raise ValueError(f"embedding_bias.occupations: single words, got {words}")
        return words

    @model_validator(mode="after")
    def _occupations_are_neutral(self) -> EmbeddingBiasConfig:
        clash = sorted(set(self.occupations) & self.specific_words())
        if clash:
            raise ValueError(
                f"embedding_bias.occupations: {', '.join(clash)} also in the gender-specific "
                "words (pairs or gender_specific); DirectBias scores gender-neutral words")
        return self

    def specific_words(self) -> set[str]:
        """Every word debiasing leaves alone: both pair lists and `gender_specific`."""
        pairs = [*self.definitional_pairs, *self.equalize_pairs]
        return {w for pair in pairs for w in pair} | set(self.gender_specific)


class EmbeddingBiasOnly(Strict):
    """The section alone, for `dlzoo embedding-bias FILE` without a recipe."""

    embedding_bias: EmbeddingBiasConfig = EmbeddingBiasConfig()
