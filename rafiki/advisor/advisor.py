"""Advisors for the tuning schemes (see RAFIKI_COMPAT.md, "Policies and tuning schemes").

v1 implements: a single trial for configs of only Fixed/Policy knobs, Bayesian optimisation
(Optuna's TPE through ask/tell) for Integer/Float/Categorical knobs, and uniformly random
choices when an ArchKnob is present. Policy knobs are False.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from rafiki.model.knob import (
    ArchKnob,
    BaseKnob,
    CategoricalKnob,
    FixedKnob,
    FloatKnob,
    IntegerKnob,
    PolicyKnob,
    validate_knob_config,
)


@dataclass
class Proposal:
    """What to try next: the knob values, and whether to pass shared parameters to ``train``."""

    knobs: dict[str, Any]
    share_params: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


class Advisor:
    """Ask/tell: ``propose()`` the next knobs, ``feedback(knobs, score)`` with the result
    (``score=None`` for a failed trial), ``pending(knobs)`` for trials still running."""

    scheme = "base"

    def __init__(self, knob_config: dict[str, BaseKnob], seed: int | None = None):
        validate_knob_config(knob_config)
        self.knob_config = knob_config
        self.seed = seed
        self.history: list[tuple[dict[str, Any], float | None]] = []
        self.in_flight: list[dict[str, Any]] = []

    def propose(self) -> Proposal | None:
        raise NotImplementedError

    def feedback(self, knobs: dict[str, Any], score: float | None) -> None:
        self.history.append((dict(knobs), score))
        if knobs in self.in_flight:
            self.in_flight.remove(knobs)

    def pending(self, knobs: dict[str, Any]) -> None:
        self.in_flight.append(dict(knobs))

    @property
    def trials_seen(self) -> int:
        return len(self.history) + len(self.in_flight)

    def best(self) -> tuple[dict[str, Any], float] | None:
        scored = [(k, s) for k, s in self.history if s is not None]
        return max(scored, key=lambda ks: ks[1]) if scored else None

    def _fixed_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, knob in self.knob_config.items():
            if isinstance(knob, FixedKnob):
                values[name] = knob.value
            elif isinstance(knob, PolicyKnob):
                values[name] = False
        return values

    def _proposal(self, knobs: dict[str, Any]) -> Proposal:
        # Keep the knob order the model declared.
        ordered = {name: knobs[name] for name in self.knob_config}
        self.pending(ordered)
        return Proposal(knobs=ordered, meta={"scheme": self.scheme})


class FixedAdvisor(Advisor):
    """Only fixed and policy knobs: there is one thing to try."""

    scheme = "single_trial"

    def propose(self) -> Proposal | None:
        if self.trials_seen:
            return None
        return self._proposal(self._fixed_values())


class RandomAdvisor(Advisor):
    """Uniformly random values (used when an ArchKnob is present, for now)."""

    scheme = "random"

    def propose(self) -> Proposal | None:
        # Seeded by how many trials came before, so that an advisor rebuilt from the same
        # history proposes the same thing, and one rebuilt later proposes something new.
        rng = random.Random(None if self.seed is None else (self.seed, self.trials_seen).__hash__())
        knobs = self._fixed_values()
        for name, knob in self.knob_config.items():
            if isinstance(knob, (IntegerKnob, FloatKnob)):
                knobs[name] = _random_in_range(rng, knob)
            elif isinstance(knob, CategoricalKnob):
                knobs[name] = rng.choice(knob.values).value
            elif isinstance(knob, ArchKnob):
                knobs[name] = [rng.choice(item).value for item in knob.items]
        return self._proposal(knobs)


def _random_in_range(rng: random.Random, knob: IntegerKnob | FloatKnob) -> Any:
    import math

    lo, hi = knob.value_min, knob.value_max
    if knob.is_exp:
        value = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    else:
        value = rng.uniform(lo, hi)
    if isinstance(knob, IntegerKnob):
        return min(hi, max(lo, round(value)))
    return min(hi, max(lo, value))


class BayesOptAdvisor(Advisor):
    """Bayesian optimisation with Optuna's TPE sampler, through its ask/tell interface."""

    scheme = "bayes_opt"

    def __init__(self, knob_config: dict[str, BaseKnob], seed: int | None = None):
        super().__init__(knob_config, seed)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self._distributions = {}
        for name, knob in knob_config.items():
            dist = _distribution(optuna, knob)
            if dist is not None:
                self._distributions[name] = dist
        self._study = None
        # Trials of the study still waiting for their result, by their params: those this
        # advisor asked for (optuna trial objects) and those it was told about (numbers).
        self._asked: list[tuple[dict[str, Any], Any]] = []
        self._running: list[tuple[dict[str, Any], int]] = []
        self._proposing = False

    def _new_study(self):
        optuna = self._optuna
        seed = None if self.seed is None else hash((self.seed, self.trials_seen)) % (2**31)
        sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True, multivariate=True)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        self._study, self._asked, self._running = study, [], []
        for knobs, score in self.history:
            self._add_finished(knobs, score)
        for knobs in self.in_flight:
            self._add_running(knobs)
        return study

    def _add_finished(self, knobs: dict[str, Any], score: float | None) -> None:
        params = self._params_of(knobs)
        if params is None:
            return
        if score is None:
            trial = self._optuna.trial.create_trial(
                params=params,
                distributions=self._distributions,
                state=self._optuna.trial.TrialState.FAIL,
            )
        else:
            trial = self._optuna.trial.create_trial(
                params=params, distributions=self._distributions, value=float(score)
            )
        self._study.add_trial(trial)

    def _add_running(self, knobs: dict[str, Any]) -> None:
        params = self._params_of(knobs)
        if params is None:
            return
        self._study.add_trial(
            self._optuna.trial.create_trial(
                params=params,
                distributions=self._distributions,
                state=self._optuna.trial.TrialState.RUNNING,
            )
        )
        number = len(self._study.get_trials(deepcopy=False)) - 1
        self._running.append((params, number))

    def _params_of(self, knobs: dict[str, Any]) -> dict[str, Any] | None:
        params = {}
        for name, dist in self._distributions.items():
            if name not in knobs:
                return None
            value = knobs[name]
            if not dist._contains(dist.to_internal_repr(value)):
                return None  # e.g. a value typed by a user outside the search space
            params[name] = value
        return params

    def propose(self) -> Proposal | None:
        # Built once from the history; after that every pending() and feedback() updates the
        # study in place, so an advisor kept alive (locally, or cached by the platform) never
        # replays its history, and one rebuilt from stored trials is the same study.
        if self._study is None:
            self._new_study()
        trial = self._study.ask(self._distributions)
        knobs = self._fixed_values()
        knobs.update(trial.params)
        self._asked.append((dict(trial.params), trial))
        self._proposing = True
        try:
            return self._proposal(knobs)  # marks it pending: already in the study
        finally:
            self._proposing = False

    def pending(self, knobs: dict[str, Any]) -> None:
        super().pending(knobs)
        if self._study is not None and not self._proposing:
            self._add_running(knobs)  # proposed elsewhere (another worker's advisor)

    def feedback(self, knobs: dict[str, Any], score: float | None) -> None:
        super().feedback(knobs, score)
        if self._study is None:
            return  # the study is built from the history on the next propose
        params = self._params_of(knobs)
        if params is None:
            return  # outside the search space: the study never held it
        for waiting in (self._asked, self._running):
            for i, (waiting_params, trial) in enumerate(waiting):
                if waiting_params == params:
                    waiting.pop(i)
                    if score is None:
                        self._study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
                    else:
                        self._study.tell(trial, float(score))
                    return
        self._add_finished(knobs, score)  # a trial it never heard of, finished already


def _distribution(optuna, knob: BaseKnob):
    d = optuna.distributions
    if isinstance(knob, IntegerKnob):
        return d.IntDistribution(knob.value_min, knob.value_max, log=knob.is_exp)
    if isinstance(knob, FloatKnob):
        return d.FloatDistribution(knob.value_min, knob.value_max, log=knob.is_exp)
    if isinstance(knob, CategoricalKnob):
        return d.CategoricalDistribution([v.value for v in knob.values])
    return None


def make_advisor(
    knob_config: dict[str, BaseKnob],
    budget: dict[str, Any] | None = None,
    seed: int | None = None,
) -> Advisor:
    """Choose the tuning scheme for ``knob_config`` (the budget matters for later schemes)."""
    validate_knob_config(knob_config)
    kinds = {type(k) for k in knob_config.values()}
    if kinds <= {FixedKnob, PolicyKnob}:
        return FixedAdvisor(knob_config, seed)
    if ArchKnob in kinds:
        return RandomAdvisor(knob_config, seed)
    return BayesOptAdvisor(knob_config, seed)
