"""Advisors for the tuning schemes (see RAFIKI_COMPAT.md, "Policies and tuning schemes").

v1 implements: a single trial for configs of only Fixed/Policy knobs, Bayesian optimisation
(Optuna's TPE through ask/tell) for Integer/Float/Categorical knobs, and uniformly random
choices when an ArchKnob is present. Policy knobs are False.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

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

    knobs: Dict[str, Any]
    share_params: bool = False
    meta: Dict[str, Any] = field(default_factory=dict)


class Advisor:
    """Ask/tell: ``propose()`` the next knobs, ``feedback(knobs, score)`` with the result
    (``score=None`` for a failed trial), ``pending(knobs)`` for trials still running."""

    scheme = "base"

    def __init__(self, knob_config: Dict[str, BaseKnob], seed: Optional[int] = None):
        validate_knob_config(knob_config)
        self.knob_config = knob_config
        self.seed = seed
        self.history: List[tuple[Dict[str, Any], Optional[float]]] = []
        self.in_flight: List[Dict[str, Any]] = []

    def propose(self) -> Optional[Proposal]:
        raise NotImplementedError

    def feedback(self, knobs: Dict[str, Any], score: Optional[float]) -> None:
        self.history.append((dict(knobs), score))
        if knobs in self.in_flight:
            self.in_flight.remove(knobs)

    def pending(self, knobs: Dict[str, Any]) -> None:
        self.in_flight.append(dict(knobs))

    @property
    def trials_seen(self) -> int:
        return len(self.history) + len(self.in_flight)

    def best(self) -> Optional[tuple[Dict[str, Any], float]]:
        scored = [(k, s) for k, s in self.history if s is not None]
        return max(scored, key=lambda ks: ks[1]) if scored else None

    def _fixed_values(self) -> Dict[str, Any]:
        values: Dict[str, Any] = {}
        for name, knob in self.knob_config.items():
            if isinstance(knob, FixedKnob):
                values[name] = knob.value
            elif isinstance(knob, PolicyKnob):
                values[name] = False
        return values

    def _proposal(self, knobs: Dict[str, Any]) -> Proposal:
        # Keep the knob order the model declared.
        ordered = {name: knobs[name] for name in self.knob_config}
        self.pending(ordered)
        return Proposal(knobs=ordered, meta={"scheme": self.scheme})


class FixedAdvisor(Advisor):
    """Only fixed and policy knobs: there is one thing to try."""

    scheme = "single_trial"

    def propose(self) -> Optional[Proposal]:
        if self.trials_seen:
            return None
        return self._proposal(self._fixed_values())


class RandomAdvisor(Advisor):
    """Uniformly random values (used when an ArchKnob is present, for now)."""

    scheme = "random"

    def propose(self) -> Optional[Proposal]:
        # Seeded by how many trials came before, so that an advisor rebuilt from the same
        # history proposes the same thing, and one rebuilt later proposes something new.
        rng = random.Random(None if self.seed is None else (self.seed, self.trials_seen).__hash__())
        knobs = self._fixed_values()
        for name, knob in self.knob_config.items():
            if isinstance(knob, IntegerKnob):
                knobs[name] = _random_in_range(rng, knob)
            elif isinstance(knob, FloatKnob):
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
        return min(hi, max(lo, int(round(value))))
    return min(hi, max(lo, value))


class BayesOptAdvisor(Advisor):
    """Bayesian optimisation with Optuna's TPE sampler, through its ask/tell interface."""

    scheme = "bayes_opt"

    def __init__(self, knob_config: Dict[str, BaseKnob], seed: Optional[int] = None):
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
        self._asked: List[tuple[Dict[str, Any], Any]] = []

    def _new_study(self):
        optuna = self._optuna
        seed = None if self.seed is None else hash((self.seed, self.trials_seen)) % (2**31)
        sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True, multivariate=True)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        TrialState = optuna.trial.TrialState
        for knobs, score in self.history:
            params = self._params_of(knobs)
            if params is None:
                continue
            if score is None:
                trial = optuna.trial.create_trial(
                    params=params, distributions=self._distributions, state=TrialState.FAIL
                )
            else:
                trial = optuna.trial.create_trial(
                    params=params, distributions=self._distributions, value=float(score)
                )
            study.add_trial(trial)
        for knobs in self.in_flight:
            params = self._params_of(knobs)
            if params is not None:
                study.add_trial(
                    optuna.trial.create_trial(
                        params=params, distributions=self._distributions, state=TrialState.RUNNING
                    )
                )
        return study

    def _params_of(self, knobs: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        params = {}
        for name, dist in self._distributions.items():
            if name not in knobs:
                return None
            value = knobs[name]
            if not dist._contains(dist.to_internal_repr(value)):
                return None  # e.g. a value typed by a user outside the search space
            params[name] = value
        return params

    def propose(self) -> Optional[Proposal]:
        # The study is rebuilt whenever feedback arrived from outside this object, so the
        # advisor stays correct whether it is kept alive (locally) or rebuilt (platform).
        if self._study is None:
            self._study = self._new_study()
        trial = self._study.ask(self._distributions)
        knobs = self._fixed_values()
        knobs.update(trial.params)
        self._asked.append((dict(trial.params), trial))
        return self._proposal(knobs)

    def feedback(self, knobs: Dict[str, Any], score: Optional[float]) -> None:
        super().feedback(knobs, score)
        params = self._params_of(knobs)
        for i, (asked_params, trial) in enumerate(self._asked):
            if asked_params == params and self._study is not None:
                self._asked.pop(i)
                if score is None:
                    self._study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
                else:
                    self._study.tell(trial, float(score))
                return
        self._study = None  # not one of ours: rebuild from history on the next propose


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
    knob_config: Dict[str, BaseKnob],
    budget: Optional[Dict[str, Any]] = None,
    seed: Optional[int] = None,
) -> Advisor:
    """Choose the tuning scheme for ``knob_config`` (the budget matters for later schemes)."""
    validate_knob_config(knob_config)
    kinds = {type(k) for k in knob_config.values()}
    if kinds <= {FixedKnob, PolicyKnob}:
        return FixedAdvisor(knob_config, seed)
    if ArchKnob in kinds:
        return RandomAdvisor(knob_config, seed)
    return BayesOptAdvisor(knob_config, seed)
