"""Text pipelines: vocabulary from train only, length limits, vocabulary too small,
bucketing, seq2seq shifting, language-model windows, skip-gram pairs, bAbI memories."""

from __future__ import annotations

import numpy as np
import pytest

from common.errors import UserError
from pipelines.config.data import DataConfig
from pipelines.data.builder import build
from pipelines.data.source import SourceData, Split
from pipelines.data.text import Vocabulary
from pipelines.data.text_bundle import build_text
from pipelines.data.text_examples import keep_probabilities, skipgram_pairs, windows


def labelled(train: list[str], test: list[str], val: list[str] | None = None) -> SourceData:
    val = val or train[:2]

    def split(texts):
        return Split(np.array(texts, dtype=object), np.arange(len(texts)) % 2)

    return SourceData(
        splits={"train": split(train), "val": split(val), "test": split(test)},
        class_names=["neg", "pos"],
        input_range=(0.0, 0.0),
        text=True,
    )


def cfg(**text) -> DataConfig:
    return DataConfig(source="dates", batch_size=4, text=text)


def batches(ds):
    return [(np.asarray(x), np.asarray(y)) for x, y in ds]


def test_vocabulary_is_fitted_on_train_only_and_travels_in_the_spec():
    bundle = build_text(labelled(["a good film", "a bad film", "good", "bad"],
                                 ["a zebra film", "good"]), cfg(), seed=0)
    vocab = Vocabulary.from_dict(bundle.spec.extra["text"])
    assert "zebra" not in vocab.tokens and {"good", "bad", "film"} <= set(vocab.tokens)
    x, _ = batches(bundle.test)[0]
    assert list(x[0][:3]) == [vocab.tokens.index("a"), 1, vocab.tokens.index("film")]  # 1: UNK
    assert bundle.spec.raw_dtype == "string" and bundle.spec.extra["vocab_size"] == len(vocab)
    assert bundle.spec.input_shape == (3,) and bundle.spec.normalize == "none"


def test_too_long_examples_are_truncated_with_a_count_or_refused():
    source = labelled(["one two", "one two three four five", "two", "one"],
                      ["one two three four five six"])
    with pytest.warns(UserWarning, match=r"1 of 4 example\(s\) longer than 3 \(longest 5\)"):
        bundle = build_text(source, cfg(sequence_length=3), seed=0)
    assert all(x.shape[1] == 3 for x, _ in batches(bundle.train))
    with pytest.raises(UserError, match=r"longer than 3 .*too_long: truncate"):
        build_text(source, cfg(sequence_length=3, too_long="error"), seed=0)


def test_vocabulary_too_small_for_the_data():
    words = [" ".join(f"w{i * 7 + j}" for j in range(7)) for i in range(20)]
    with pytest.raises(UserError, match=r"vocabulary too small .*max_tokens=4 keeps 4 of 142"):
        build_text(labelled(words, words[:2]), cfg(max_tokens=4), seed=0)
    with pytest.raises(UserError, match="no tokens"):
        build_text(labelled(["!!", "?", "...", "!"], ["!"]), cfg(), seed=0)


def test_bucketing_pads_each_batch_to_its_longest():
    train = [" ".join(["w"] * n) for n in (1, 2, 2, 9, 10, 1, 8, 3)]
    bundle = build_text(labelled(train, train), cfg(bucket_boundaries=[4]), seed=0)
    shapes = {x.shape[1] for x, _ in batches(bundle.train)}
    assert bundle.spec.input_shape == (None,) and shapes <= {1, 2, 3, 8, 9, 10}
    assert min(shapes) <= 3 and max(shapes) >= 8  # short and long ones batched apart


def test_pairs_shift_targets_by_one_and_wrap_them():
    bundle = build(DataConfig(source="dates", params={"n": 60}, batch_size=8,
                              text={"level": "char"}), seed=0)
    extra = bundle.spec.extra
    start, end = extra["target_text"]["start_id"], extra["target_text"]["end_id"]
    x, y = next(iter(bundle.train))
    t_in, t_out = np.asarray(x["target_in"]), np.asarray(y)
    assert np.all(t_in[:, 0] == start) and np.array_equal(t_in[:, 1:], t_out[:, :-1])
    assert np.all(t_out[:, -1] == end)  # ISO dates all have 10 characters
    vocab = Vocabulary.from_dict(extra["target_text"])
    assert len(vocab.join(t_out[0])) == 10 and extra["target_sequence_length"] == 11


def test_next_token_windows_and_skipgram_pairs():
    x, y = windows(np.arange(10), 4, 3)
    assert np.array_equal(x[1], [3, 4, 5, 6]) and np.array_equal(y[1], [4, 5, 6, 7])
    rng = np.random.default_rng(0)
    noise = np.array([0, 0, 0.5, 0.5])
    t, c = skipgram_pairs([np.array([2, 3, 1, 2, 0])], window=1, negatives=3,
                          keep=np.ones(4), noise=noise, rng=rng)
    pairs = set(zip(t.tolist(), c[:, 0].tolist()))
    assert pairs == {(2, 3), (3, 2)}  # [UNK] (1) and padding (0) dropped first
    assert c.shape == (4, 4) and set(c[:, 1:].ravel()) <= {2, 3}
    keep = keep_probabilities(np.array([0, 0, 1000, 1]), 1e-3)
    assert keep[2] < 0.1 and keep[3] == 1.0  # frequent words are subsampled


def test_corpus_windows_keep_line_breaks(tmp_path):
    (tmp_path / "c.txt").write_text("abc abc\nabd\n" * 30)
    bundle = build(DataConfig(source="text_corpus", params={"path": str(tmp_path / "c.txt")},
                              text={"level": "char", "sequence_length": 8}, batch_size=4), seed=0)
    vocab = Vocabulary.from_dict(bundle.spec.extra["text"])
    assert "\n" in vocab.tokens and bundle.spec.task == "language_model"
    x, y = next(iter(bundle.test))
    assert np.array_equal(np.asarray(x)[:, 1:], np.asarray(y)[:, :-1])


def test_babi_memory_keeps_the_latest_sentences_last():
    train = Split(np.array(["\n".join(f"Mary went to room{i}." for i in range(1, 6))] * 2,
                           dtype=object), np.array([0, 0]),
                  extras={"question": np.array(["Where is Mary?"] * 2, dtype=object)})
    data = SourceData(splits={"train": train, "val": train, "test": train},
                      class_names=["room5"], input_range=(0.0, 0.0), task="qa", text=True)
    with pytest.warns(UserWarning, match=r"memory_size .*2 of 2 example\(s\) longer than 3"):
        bundle = build_text(data, cfg(memory_size=3), seed=0)
    x, _ = next(iter(bundle.test))
    vocab = Vocabulary.from_dict(bundle.spec.extra["text"])
    story = np.asarray(x["story"])[0]
    assert [vocab.join(s) for s in story] == [f"mary went to room{i}" for i in (3, 4, 5)]
    assert vocab.join(np.asarray(x["question"])[0]) == "where is mary"
