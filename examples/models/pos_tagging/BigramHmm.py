"""A part-of-speech tagger: a bigram hidden Markov model decoded with Viterbi, in numpy.

A query is a list of tokens; a prediction the list of tag numbers, one per token.

    python examples/models/pos_tagging/BigramHmm.py --MODEL_TRIAL_COUNT=3
"""

import argparse
import json
import os

import numpy as np

from rafiki.constants import BudgetOption
from rafiki.model import BaseModel, CategoricalKnob, FloatKnob, logger, utils
from rafiki.model.dev import test_model_class

UNKNOWN = "<unk>"


class BigramHmm(BaseModel):
    @staticmethod
    def get_knob_config():
        return {
            "emission_smoothing": FloatKnob(1e-3, 1.0, is_exp=True),
            "transition_smoothing": FloatKnob(1e-3, 1.0, is_exp=True),
            "lowercase": CategoricalKnob([True, False]),
        }

    def __init__(self, **knobs):
        super().__init__(**knobs)
        self.__dict__.update(knobs)

    def _norm(self, token):
        return token.lower() if self.lowercase else token

    def train(self, dataset_path, shared_params=None, **train_args):
        dataset = utils.dataset.load_dataset_of_corpus(dataset_path)
        k = dataset.tag_num_classes[0]
        vocab = {UNKNOWN: 0}
        for sentence in dataset:
            for token, _tag in sentence:
                vocab.setdefault(self._norm(token), len(vocab))
        start = np.full(k, self.transition_smoothing)
        trans = np.full((k, k), self.transition_smoothing)
        emit = np.full((k, len(vocab)), self.emission_smoothing)
        for sentence in dataset:
            previous = None
            for token, tag in sentence:
                emit[tag, vocab[self._norm(token)]] += 1
                if previous is None:
                    start[tag] += 1
                else:
                    trans[previous, tag] += 1
                previous = tag
        self._vocab = vocab
        self._log_start = np.log(start / start.sum())
        self._log_trans = np.log(trans / trans.sum(axis=1, keepdims=True))
        self._log_emit = np.log(emit / emit.sum(axis=1, keepdims=True))
        logger.log(f"Trained on {dataset.size} sentences, {len(vocab)} words, {k} tags")

    def _viterbi(self, tokens):
        if not tokens:
            return []
        ids = [self._vocab.get(self._norm(t), 0) for t in tokens]
        score = self._log_start + self._log_emit[:, ids[0]]
        back = []
        for i in ids[1:]:
            candidates = score[:, None] + self._log_trans
            back.append(candidates.argmax(axis=0))
            score = candidates.max(axis=0) + self._log_emit[:, i]
        path = [int(score.argmax())]
        for pointers in reversed(back):
            path.append(int(pointers[path[-1]]))
        return path[::-1]

    def evaluate(self, dataset_path):
        dataset = utils.dataset.load_dataset_of_corpus(dataset_path)
        correct = total = 0
        for sentence in dataset:
            predicted = self._viterbi([token for token, _ in sentence])
            correct += sum(int(p == tag) for p, (_, tag) in zip(predicted, sentence))
            total += len(sentence)
        accuracy = correct / total
        logger.log(accuracy=accuracy)
        return accuracy

    def predict(self, queries):
        return [self._viterbi(list(tokens)) for tokens in queries]

    def dump_parameters(self):
        return {
            "vocab": json.dumps(self._vocab),
            "log_start": self._log_start,
            "log_trans": self._log_trans,
            "log_emit": self._log_emit,
        }

    def load_parameters(self, params):
        self._vocab = json.loads(params["vocab"])
        self._log_start = params["log_start"]
        self._log_trans = params["log_trans"]
        self._log_emit = params["log_emit"]


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir", default=os.path.join(here, "..", "..", "data"))
    (args, _) = parser.parse_known_args()
    import sys

    sys.path.insert(0, os.path.join(here, "..", ".."))
    from datasets.pos_corpus import build_pos_corpus  # generates a small tagged corpus

    paths = build_pos_corpus(args.data_dir)
    test_model_class(
        model_file_path=__file__,
        model_class="BigramHmm",
        task="POS_TAGGING",
        dependencies={},
        train_dataset_path=paths["train"],
        val_dataset_path=paths["val"],
        test_dataset_path=paths["test"],
        budget={BudgetOption.MODEL_TRIAL_COUNT: 5},
        queries=[["The", "dog", "can", "watch", "the", "light", "."], ["I", "book", "a", "room"]],
    )
