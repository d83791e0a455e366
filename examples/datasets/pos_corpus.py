"""Build a small part-of-speech tagged corpus as CORPUS datasets (task POS_TAGGING).

    python examples/datasets/pos_corpus.py --out data/

writes ``pos_train.zip`` (300 sentences), ``pos_val.zip`` and ``pos_test.zip`` (100 each).
The sentences are generated from a hand-written English lexicon and a small grammar with a
fixed seed, so the output is the same on every run. Several words are ambiguous ("book",
"watch", "light", "can", "that"...), so a tagger has to use the context.

Each zip holds ``corpus.tsv``: a header ``token<TAB>tag``, one token per line, and a line
``\\n<TAB>0`` (the two characters backslash and n) after each sentence; the tag on that line
is ignored. Tags are ints indexing TAGS:

    0 DET  1 NOUN  2 VERB  3 ADJ  4 ADP  5 PRON  6 ADV  7 CONJ  8 PUNCT  9 PROPN  10 NUM  11 AUX
"""

from __future__ import annotations

import argparse
import os
import random
import zipfile

TAGS = ["DET", "NOUN", "VERB", "ADJ", "ADP", "PRON", "ADV", "CONJ", "PUNCT", "PROPN", "NUM", "AUX"]
T = {name: i for i, name in enumerate(TAGS)}
SENTENCE_DELIMITER = "\\n"
SPLITS = {"train": 300, "val": 100, "test": 100}
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)

# One category per line ("KIND: word word ..."); a kind may continue on the next line. NOUNS
# are plurals (after numbers); VERB_T, VERB_I and VERB_BASE are transitive past, intransitive
# past and base (after an auxiliary) forms. All of them are tagged NOUN or VERB.
_LEXICON_TEXT = """
DET: the a this that every some
NOUN: dog book watch light park teacher river house letter can garden child table
NOUN: train city song window farmer cat market
NOUNS: dogs books watches lights parks teachers rivers houses letters cans gardens
NOUNS: children tables trains songs windows farmers cats
VERB_T: saw read found painted carried liked opened watched booked wrote cleaned sold
VERB_T: followed heard
VERB_I: slept laughed arrived waited ran sang left smiled
VERB_BASE: watch book light see read open find carry sell hear
ADJ: old small red quiet light bright happy long green cold
ADP: in on near with under behind from to
PRON: she he they we I you it
ADV: quickly slowly today often quietly again yesterday
CONJ: and but or
PROPN: Anna Ravi Lee Maria Singapore Paris Tom
NUM: two three five seven ten
AUX: can will must should may
"""
LEXICON: dict[str, list[str]] = {}
for _line in _LEXICON_TEXT.strip().splitlines():
    _kind, _words = _line.split(":")
    LEXICON.setdefault(_kind, []).extend(_words.split())


def _word(rng: random.Random, kind: str) -> tuple[str, int]:
    tag = {"NOUNS": "NOUN", "VERB_T": "VERB", "VERB_I": "VERB", "VERB_BASE": "VERB"}.get(kind, kind)
    return rng.choice(LEXICON[kind]), T[tag]


def noun_phrase(rng: random.Random, allow_pp: bool = True) -> list[tuple[str, int]]:
    roll = rng.random()
    if roll < 0.15:
        return [_word(rng, "PRON")]
    if roll < 0.3:
        return [_word(rng, "PROPN")]
    if roll < 0.4:
        phrase = (
            [_word(rng, "NUM")]
            + ([_word(rng, "ADJ")] if rng.random() < 0.3 else [])
            + [_word(rng, "NOUNS")]
        )
    else:
        phrase = (
            [_word(rng, "DET")]
            + ([_word(rng, "ADJ")] if rng.random() < 0.4 else [])
            + [_word(rng, "NOUN")]
        )
    if allow_pp and rng.random() < 0.25:
        phrase += [_word(rng, "ADP")] + noun_phrase(rng, allow_pp=False)
    return phrase


def verb_phrase(rng: random.Random) -> list[tuple[str, int]]:
    roll = rng.random()
    if roll < 0.45:
        phrase = [_word(rng, "VERB_T")] + noun_phrase(rng)
    elif roll < 0.7:
        phrase = [_word(rng, "VERB_I")]
        if rng.random() < 0.5:
            phrase += [_word(rng, "ADP")] + noun_phrase(rng, allow_pp=False)
    else:
        phrase = [_word(rng, "AUX"), _word(rng, "VERB_BASE")] + noun_phrase(rng)
    if rng.random() < 0.3:
        phrase.append(_word(rng, "ADV"))
    return phrase


def sentence(rng: random.Random) -> list[tuple[str, int]]:
    """One sentence as (token, tag) pairs: NP VP (CONJ NP VP) then '.', '!' or '?'."""
    words = noun_phrase(rng) + verb_phrase(rng)
    if rng.random() < 0.2:
        words += [_word(rng, "CONJ")] + noun_phrase(rng) + verb_phrase(rng)
    first, tag = words[0]
    words[0] = (first[0].upper() + first[1:], tag)
    return words + [(rng.choice([".", ".", ".", "!"]), T["PUNCT"])]


def corpus_tsv(sentences: list[list[tuple[str, int]]]) -> str:
    lines = ["token\ttag"]
    for words in sentences:
        lines += [f"{token}\t{tag}" for token, tag in words]
        lines.append(f"{SENTENCE_DELIMITER}\t0")
    return "\n".join(lines) + "\n"


def build_pos_corpus(out_dir: str, seed: int = 0) -> dict[str, str]:
    """Write the corpus as CORPUS zips into ``out_dir``; return split name -> path."""
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(seed)
    paths = {}
    for split, count in SPLITS.items():
        text = corpus_tsv([sentence(rng) for _ in range(count)])
        paths[split] = os.path.join(out_dir, f"pos_{split}.zip")
        with zipfile.ZipFile(paths[split], "w") as zf:
            info = zipfile.ZipInfo("corpus.tsv", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode())
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder to write the zips into")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for split, path in build_pos_corpus(args.out, args.seed).items():
        print(f"{split}: {path}")


if __name__ == "__main__":
    main()
