"""CORPUS datasets (task POS_TAGGING).

Format: a zip with ``corpus.tsv`` at its root: tab-separated, a header row with ``token`` and
one column per tag (``tag`` for POS_TAGGING), then one token per line in text order. A line
whose token is the two characters ``\\n`` (backslash, n) ends a sentence; the tag values on
that line are ignored. Quotes are ordinary characters, so tokens such as ``"`` or ``''`` need
no escaping.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ._table import TableReader, parse_class
from .archive import ArchiveLimits, extracted_zip
from .errors import InvalidDatasetError

CORPUS_TSV = "corpus.tsv"
TOKEN_COLUMN = "token"
SENTENCE_DELIMITER = "\\n"

Sentence = list[list]  # [[token, tag_1, ..., tag_k], ...]


@dataclass
class ParsedCorpus:
    tags: list[str]
    sentences: list[Sentence]
    tag_num_classes: list[int]
    class_counts: list[list[int]] = field(default_factory=list)  # per tag, per class
    tokens: int = 0


def read_corpus(
    root: str, archive: str, tags: Sequence[str] | None = None, split_by: str = SENTENCE_DELIMITER
) -> ParsedCorpus:
    """Parse ``corpus.tsv`` of an extracted CORPUS archive."""
    tsv_path = os.path.join(root, CORPUS_TSV)
    where = f"{archive}: {CORPUS_TSV}"
    if not os.path.isfile(tsv_path):
        raise InvalidDatasetError(f"{archive}: no {CORPUS_TSV} at the root of the archive")
    sentences: list[Sentence] = []
    current: Sentence = []
    with TableReader(tsv_path, where, delimiter="\t", quoting=csv.QUOTE_NONE) as table:
        table.require([TOKEN_COLUMN])
        tag_names = [c for c in table.header if c != TOKEN_COLUMN] if tags is None else list(tags)
        table.require(tag_names)
        counts: list[list[int]] = [[] for _ in tag_names]
        for _line, row in table.rows():
            token = row[TOKEN_COLUMN]
            if token == split_by:
                if current:
                    sentences.append(current)
                current = []
                continue
            if token == "":
                raise table.error("the token is empty", TOKEN_COLUMN)
            values: list = [token]
            for i, tag in enumerate(tag_names):
                value = parse_class(table, tag, row[tag])
                values.append(value)
                if value >= len(counts[i]):
                    counts[i].extend([0] * (value + 1 - len(counts[i])))
                counts[i][value] += 1
            current.append(values)
    if current:
        # Tolerate a missing delimiter after the last sentence.
        sentences.append(current)
    if not sentences:
        raise InvalidDatasetError(f"{where}: has no tokens")
    return ParsedCorpus(
        tags=tag_names,
        sentences=sentences,
        tag_num_classes=[len(c) for c in counts],
        class_counts=counts,
        tokens=sum(len(s) for s in sentences),
    )


class CorpusDataset:
    """A CORPUS dataset loaded into memory, for the task POS_TAGGING.

    ``tags`` lists the tag columns read (default: every column other than ``token``, so
    ``['tag']`` for a POS_TAGGING corpus); ``tag_num_classes[i]`` is the number of classes of
    ``tags[i]`` (its largest value + 1). ``size`` is the number of sentences. Each sample is a
    sentence, a list of ``[token, tag_1, ..., tag_k]`` lists with ``token`` a str and each tag
    an int::

        dataset = utils.dataset.load_dataset_of_corpus(dataset_path)
        num_tags = dataset.tag_num_classes[0]
        for sentence in dataset:
            tokens = [token for (token, tag) in sentence]

    Sentences are delimited by lines whose token equals ``split_by`` (default the two
    characters ``\\n``); empty sentences are dropped.
    """

    def __init__(
        self,
        dataset_path: str,
        tags: Sequence[str] | None = None,
        split_by: str = SENTENCE_DELIMITER,
        *,
        limits: ArchiveLimits | None = None,
    ):
        self.dataset_path = dataset_path
        with extracted_zip(dataset_path, limits) as root:
            parsed = read_corpus(root, os.path.basename(dataset_path), tags, split_by)
        self.tags: list[str] = parsed.tags
        self.tag_num_classes: list[int] = parsed.tag_num_classes
        self._sentences = parsed.sentences
        self.size: int = len(parsed.sentences)
        self.max_token_len: int = max(len(token) for s in parsed.sentences for token, *_ in s)
        self.max_sent_len: int = max(len(s) for s in parsed.sentences)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> Sentence:
        return self._sentences[index]

    def __iter__(self) -> Iterator[Sentence]:
        return iter(self._sentences)
