"""Text sources: labelled lines, sentence pairs, bAbI stories, raw corpora, dates.

Each returns raw strings (`SourceData.text`); `pipelines.data.text_bundle` splits
them, fits the vectorization on the training split only and batches them. Files are
split on '\\n' only (never `str.splitlines()`, which also splits on characters such
as U+2028 that can occur inside a sentence); a trailing '\\r' is dropped.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Literal

import numpy as np

from common.errors import UserError
from pipelines.data.dates import make_dates
from pipelines.data.files import _labels_to_ids
from pipelines.data.source import SourceData, Split, register_source, resolve_path

EmptyLines = Literal["skip", "error"]


def read_lines(file: Path) -> list[str]:
    """The lines of a UTF-8 text file, split on '\\n' only."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UserError(f"{file}: not UTF-8 text ({err})") from None
    except OSError as err:
        raise UserError(f"cannot read {file}: {err}") from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines  # the final newline


def _files(data_dir: Path, path: str | list[str], what: str) -> list[Path]:
    """One file, several, or every *.txt of a folder (sorted)."""
    out: list[Path] = []
    for item in [path] if isinstance(path, str) else path:
        found = resolve_path(data_dir, item, what=what)
        out += sorted(found.glob("*.txt")) if found.is_dir() else [found]
    if not out:
        raise UserError(f"no {what} found at {path}")
    return out


class _Lines:
    """Walks the lines of files, skipping or rejecting empty and malformed ones."""

    def __init__(self, empty_lines: EmptyLines, skip_corrupt: bool) -> None:
        self.empty_lines, self.skip_corrupt = empty_lines, skip_corrupt
        self.skipped: list[str] = []

    def fields(self, files: list[Path], separator: str, n: int, form: str):
        """Yield (where, fields) with `n` non-empty fields per accepted line."""
        for file in files:
            for number, line in enumerate(read_lines(file), start=1):
                where = f"{file}:{number}"
                if not line.strip():
                    self._empty(where, "empty line")
                    continue
                parts = [p.strip() for p in line.split(separator)] if n > 1 else [line]
                if len(parts) < n:
                    self._bad(where, f"expected {form}, got {line[:60]!r}")
                    continue
                if not all(parts[:n]):
                    self._empty(where, f"an empty field in {line[:60]!r}")
                    continue
                yield where, parts[:n]

    def _empty(self, where: str, what: str) -> None:
        if self.empty_lines == "error":
            raise UserError(
                f"{where}: {what} (set data.params.empty_lines: skip to skip such lines)"
            )
        self.skipped.append(f"{where} ({what})")

    def _bad(self, where: str, what: str) -> None:
        if not self.skip_corrupt:
            raise UserError(f"{where}: {what} (set data.skip_corrupt: true to skip such lines)")
        self.skipped.append(f"{where} ({what})")

    def warn(self, source: str) -> None:
        if self.skipped:
            warnings.warn(
                f"data source {source}: skipped {len(self.skipped)} line(s), "
                f"e.g. {self.skipped[0]}",
                stacklevel=3,
            )


def _shown(separator: str) -> str:
    return {"\t": "<TAB>"}.get(separator, separator)


def _strings(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=object)


@register_source("text_lines")
def text_lines(
    *,
    path: str | list[str],
    labels: list[str] | None = None,
    separator: str = "\t",
    empty_lines: EmptyLines = "skip",
    data_dir: Path,
    skip_corrupt: bool = False,
) -> SourceData:
    """Labelled sentences, one `sentence<TAB>label` per line (files or a folder)."""
    walker = _Lines(empty_lines, skip_corrupt)
    sentences, raw_labels = [], []
    for where, (sentence, label) in _last_field_split(
        walker, _files(data_dir, path, "text file"), separator
    ):
        if labels is not None and label not in labels:
            raise UserError(
                f"{where}: unknown label {label!r}; allowed (data.params.labels): "
                f"{', '.join(labels)}"
            )
        sentences.append(sentence)
        raw_labels.append(label)
    if not sentences:
        raise UserError(f"no labelled lines in {path}")
    walker.warn("text_lines")
    if labels is not None:
        y, names = np.array([labels.index(v) for v in raw_labels], np.int64), list(labels)
    else:
        y, names = _labels_to_ids(np.array(raw_labels), str(path))
    return SourceData(
        splits={"train": Split(_strings(sentences), y)},
        class_names=names,
        input_range=(0.0, 0.0),
        file_based=True,
        skipped=walker.skipped,
        text=True,
    )


def _last_field_split(walker: _Lines, files: list[Path], separator: str):
    """(where, [sentence, label]): the label is after the LAST separator, so a
    sentence may itself contain the separator."""
    for where, (line,) in walker.fields(files, separator, 1, "text"):
        sentence, sep, label = line.rpartition(separator)
        if not sep:
            walker._bad(where, f"expected 'sentence{_shown(separator)}label', got {line[:60]!r}")
            continue
        if not sentence.strip() or not label.strip():
            walker._empty(where, f"an empty sentence or label in {line[:60]!r}")
            continue
        yield where, (sentence.strip(), label.strip())


@register_source("text_pairs")
def text_pairs(
    *,
    path: str | list[str],
    separator: str = "\t",
    swap: bool = False,
    drop_last: int = 0,
    max_pairs: int | None = None,
    empty_lines: EmptyLines = "skip",
    data_dir: Path,
    skip_corrupt: bool = False,
) -> SourceData:
    """Sentence pairs `source<TAB>target` per line (translation); extra columns ignored.

    Args:
        swap: translate the second column into the first.
        drop_last: drop this many lines at the end of each file (a cut-off last line).
        max_pairs: keep only the first pairs (files sorted shortest first stay short).
    """
    walker = _Lines(empty_lines, skip_corrupt)
    pairs = []
    for file in _files(data_dir, path, "text file"):
        kept = list(walker.fields([file], separator, 2, f"'source{_shown(separator)}target'"))
        pairs += kept[: len(kept) - drop_last] if drop_last else kept
    pairs = pairs[:max_pairs] if max_pairs else pairs
    if not pairs:
        raise UserError(f"no sentence pairs in {path}")
    walker.warn("text_pairs")
    sources = [p[1][1] if swap else p[1][0] for p in pairs]
    targets = [p[1][0] if swap else p[1][1] for p in pairs]
    return SourceData(
        splits={"train": Split(_strings(sources), _strings(targets))},
        class_names=[],
        input_range=(0.0, 0.0),
        task="seq2seq",
        file_based=True,
        skipped=walker.skipped,
        text=True,
    )


@register_source("dates")
def dates(
    *,
    n: int = 20000,
    seed: int = 0,
    year_min: int = 1950,
    year_max: int = 2049,
    data_dir=None,
    skip_corrupt=False,
) -> SourceData:
    """Generated dates, human-readable -> ISO 8601 (a translation task for attention)."""
    if not 1 <= year_min <= year_max <= 9999:
        raise UserError(f"data.params: need 1 <= year_min <= year_max <= 9999, got "
                        f"{year_min}, {year_max}")
    sources, targets = make_dates(n, seed=seed, year_min=year_min, year_max=year_max)
    return SourceData(
        splits={"train": Split(_strings(sources), _strings(targets))},
        class_names=[],
        input_range=(0.0, 0.0),
        task="seq2seq",
        text=True,
    )


@register_source("text_corpus")
def text_corpus(
    *,
    path: str | list[str],
    column: int | None = None,
    separator: str = "\t",
    max_lines: int | None = None,
    data_dir: Path,
    skip_corrupt: bool = False,
) -> SourceData:
    """Raw text, one line per example (language models, word embeddings).

    Args:
        column: take this column of separated lines (e.g. 0: the English side of a
            translation file); None takes whole lines.
    """
    lines = []
    for file in _files(data_dir, path, "text file"):
        for line in read_lines(file):
            if column is not None:
                parts = line.split(separator)
                line = parts[column] if len(parts) > column else ""
            if line.strip():  # blank lines separate paragraphs; nothing to learn there
                lines.append(line.strip())
    lines = lines[:max_lines] if max_lines else lines
    if not lines:
        raise UserError(f"no text in {path}")
    return SourceData(
        splits={"train": Split(_strings(lines), np.zeros(len(lines), np.int64))},
        class_names=[],
        input_range=(0.0, 0.0),
        task="corpus",
        file_based=True,
        text=True,
    )


_BABI_LINE = re.compile(r"^(\d+) (.*)$")


def parse_babi(file: Path) -> tuple[list[str], list[str], list[str]]:
    """(stories, questions, answers) of one bAbI file; a story is every statement
    since its start and before the question, joined with '\\n'."""
    stories, questions, answers = [], [], []
    story: list[str] = []
    for number, line in enumerate(read_lines(file), start=1):
        match = _BABI_LINE.match(line.strip())
        if not match:
            if not line.strip():
                continue
            raise UserError(f"{file}:{number}: not a bAbI line ('N text' or 'N question"
                            f"<TAB>answer<TAB>facts'): {line[:60]!r}")
        index, text = int(match.group(1)), match.group(2)
        if index == 1:
            story = []
        if "\t" in text:
            question, answer = (part.strip() for part in text.split("\t")[:2])
            stories.append("\n".join(story))
            questions.append(question)
            answers.append(answer)
        else:
            story.append(text.strip())
    return stories, questions, answers


@register_source("babi")
def babi(
    *, path: str = "babi/en", task: int = 1, data_dir: Path, skip_corrupt: bool = False
) -> SourceData:
    """bAbI question answering (Weston et al. 2015): stories, questions, one-word answers."""
    if not 1 <= task <= 20:
        raise UserError(f"data.params.task: bAbI tasks are 1..20, got {task}")
    folder = resolve_path(data_dir, path, what="bAbI folder")
    splits, answers = {}, {}
    for split in ("train", "test"):
        found = sorted(folder.glob(f"qa{task}_*_{split}.txt"))
        if not found:
            raise UserError(f"{folder}: no qa{task}_*_{split}.txt (the bAbI 'en' folder)")
        stories, questions, answers[split] = parse_babi(found[0])
        splits[split] = (stories, questions)
    names = sorted(set(answers["train"]) | set(answers["test"]))
    return SourceData(
        splits={
            split: Split(
                _strings(stories),
                np.array([names.index(a) for a in answers[split]], np.int64),
                extras={"question": _strings(questions)},
            )
            for split, (stories, questions) in splits.items()
        },
        class_names=names,
        input_range=(0.0, 0.0),
        task="qa",
        file_based=True,
        text=True,
    )
