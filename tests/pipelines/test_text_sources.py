"""Text sources: line splitting, empty and malformed lines, labels, pairs, bAbI, dates."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from common.errors import UserError
from pipelines.data.text_sources import babi, dates, parse_babi, text_corpus, text_lines, text_pairs


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_labelled_lines_split_on_newline_only_and_skip_blank_lines(tmp_path):
    write(tmp_path / "a.txt", "good film\t1\r\nbad\u2028film\t0\n\n  \nfine, really\t1\n")
    with pytest.warns(UserWarning, match="skipped 2 line"):
        data = text_lines(path="a.txt", data_dir=tmp_path)
    train = data.splits["train"]
    assert list(train.x) == ["good film", "bad\u2028film", "fine, really"]  # U+2028 kept
    assert list(train.y) == [1, 0, 1] and data.class_names == ["0", "1"]
    assert len(data.skipped) == 2 and all("empty line" in s for s in data.skipped)
    assert data.text and data.task == "classify"


def test_empty_lines_can_be_an_error(tmp_path):
    write(tmp_path / "a.txt", "good\t1\n\nbad\t0\n")
    with pytest.raises(UserError, match=r"a.txt:2: empty line"):
        text_lines(path="a.txt", empty_lines="error", data_dir=tmp_path)
    write(tmp_path / "b.txt", "good\t1\n\t0\n")
    with pytest.raises(UserError, match=r"b.txt:2: an empty sentence"):
        text_lines(path="b.txt", empty_lines="error", data_dir=tmp_path)


def test_unknown_label_and_malformed_line(tmp_path):
    write(tmp_path / "a.txt", "good\t1\nbad\t0\nodd\tmaybe\n")
    with pytest.raises(UserError, match=r"a.txt:3: unknown label 'maybe'; allowed .*0, 1"):
        text_lines(path="a.txt", labels=["0", "1"], data_dir=tmp_path)
    write(tmp_path / "b.txt", "good\t1\nno label here\nbad\t0\n")
    with pytest.raises(UserError, match=r"b.txt:2: expected .*skip_corrupt"):
        text_lines(path="b.txt", data_dir=tmp_path)
    with pytest.warns(UserWarning):
        data = text_lines(path="b.txt", data_dir=tmp_path, skip_corrupt=True)
    assert list(data.splits["train"].x) == ["good", "bad"] and len(data.skipped) == 1


def test_sentence_pairs_drop_cut_line_swap_and_limit(tmp_path):
    write(tmp_path / "p.txt", "Go.\tVa !\nRun!\tCours !\nHi.\tSalut.\tCC-BY x\nCut\tCoup")
    data = text_pairs(path="p.txt", drop_last=1, data_dir=tmp_path)
    train = data.splits["train"]
    assert list(train.x) == ["Go.", "Run!", "Hi."] and list(train.y)[-1] == "Salut."
    swapped = text_pairs(path="p.txt", swap=True, max_pairs=2, data_dir=tmp_path)
    assert list(swapped.splits["train"].x) == ["Va !", "Cours !"]
    assert data.task == "seq2seq"


def test_dates_are_seeded_and_iso():
    a, b = dates(n=200, seed=3), dates(n=200, seed=3)
    assert list(a.splits["train"].x) == list(b.splits["train"].x)
    targets = a.splits["train"].y
    for t in targets:
        datetime.date.fromisoformat(t)  # a valid ISO date
    assert len(set(a.splits["train"].x)) > 150
    assert list(dates(n=200, seed=4).splits["train"].x) != list(a.splits["train"].x)
    with pytest.raises(UserError, match="year_min"):
        dates(n=5, year_min=2000, year_max=1999)


BABI = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary? \tbathroom\t1
4 Mary went back to the garden.
5 Where is Mary? \tgarden\t4
1 Sandra journeyed to the office.
2 Where is Sandra? \toffice\t1
"""


def test_babi_stories_questions_answers(tmp_path):
    folder = tmp_path / "en"
    folder.mkdir()
    write(folder / "qa1_single-supporting-fact_train.txt", BABI)
    write(folder / "qa1_single-supporting-fact_test.txt", BABI)
    stories, questions, answers = parse_babi(folder / "qa1_single-supporting-fact_train.txt")
    assert stories[1] == ("Mary moved to the bathroom.\nJohn went to the hallway.\n"
                          "Mary went back to the garden.")
    assert stories[2] == "Sandra journeyed to the office."  # a new story at index 1
    assert questions[0] == "Where is Mary?" and answers == ["bathroom", "garden", "office"]
    data = babi(path="en", task=1, data_dir=tmp_path)
    assert data.class_names == ["bathroom", "garden", "office"]
    assert list(data.splits["test"].y) == [0, 1, 2]
    assert data.splits["train"].extras["question"][2] == "Where is Sandra?"
    with pytest.raises(UserError, match="tasks are 1..20"):
        babi(path="en", task=21, data_dir=tmp_path)
    with pytest.raises(UserError, match="no qa2_"):
        babi(path="en", task=2, data_dir=tmp_path)


def test_corpus_takes_a_column(tmp_path):
    write(tmp_path / "c.txt", "Hello.\tBonjour.\n\nBye.\tSalut.\n")
    data = text_corpus(path="c.txt", column=0, data_dir=tmp_path)
    assert list(data.splits["train"].x) == ["Hello.", "Bye."]
    assert np.all(data.splits["train"].y == 0) and data.task == "corpus"
