import pytest

from rafiki.advisor import BayesOptAdvisor, FixedAdvisor, RandomAdvisor, make_advisor
from rafiki.model import ArchKnob, CategoricalKnob, FixedKnob, FloatKnob, IntegerKnob, PolicyKnob


def _score(knobs):
    # Best at depth 7, lr 0.1, act "tanh".
    return -abs(knobs["depth"] - 7) - abs(knobs["lr"] - 0.1) + (knobs["act"] == "tanh")


CONFIG = {
    "depth": IntegerKnob(1, 20),
    "lr": FloatKnob(1e-4, 1.0, is_exp=True),
    "act": CategoricalKnob(["relu", "tanh"]),
    "batch": FixedKnob(32),
    "early": PolicyKnob("EARLY_STOP"),
}


def test_fixed_only_config_gets_a_single_trial():
    advisor = make_advisor({"batch": FixedKnob(32), "early": PolicyKnob("EARLY_STOP")})
    assert isinstance(advisor, FixedAdvisor)
    proposal = advisor.propose()
    assert proposal.knobs == {"batch": 32, "early": False}
    advisor.feedback(proposal.knobs, 0.5)
    assert advisor.propose() is None


def test_bayes_opt_stays_in_bounds_and_improves():
    advisor = make_advisor(CONFIG, seed=3)
    assert isinstance(advisor, BayesOptAdvisor)
    scores = []
    for _ in range(30):
        proposal = advisor.propose()
        k = proposal.knobs
        assert 1 <= k["depth"] <= 20 and isinstance(k["depth"], int)
        assert 1e-4 <= k["lr"] <= 1.0
        assert k["act"] in ("relu", "tanh") and k["batch"] == 32 and k["early"] is False
        scores.append(_score(k))
        advisor.feedback(k, scores[-1])
    # TPE after its random start-up finds better knobs than the start-up trials did.
    assert max(scores[10:]) > max(scores[:10])
    assert advisor.best()[1] == max(scores)


def test_seeded_advisor_is_deterministic():
    def run():
        advisor = make_advisor(CONFIG, seed=11)
        out = []
        for _ in range(12):
            k = advisor.propose().knobs
            out.append(k)
            advisor.feedback(k, _score(k))
        return out

    assert run() == run()


def test_rebuilt_advisor_proposes_something_new_for_each_in_flight_trial():
    history = []
    advisor = make_advisor(CONFIG, seed=5)
    for _ in range(4):
        k = advisor.propose().knobs
        history.append((k, _score(k)))
        advisor.feedback(k, _score(k))

    def rebuilt(in_flight):
        a = make_advisor(CONFIG, seed=5)
        for k, s in history:
            a.feedback(k, s)
        for k in in_flight:
            a.pending(k)
        return a.propose().knobs

    first = rebuilt([])
    assert rebuilt([]) == first  # same stored state, same proposal
    second = rebuilt([first])
    assert second != first  # a parallel trial gets different knobs


def test_failed_trials_are_accepted():
    advisor = make_advisor(CONFIG, seed=1)
    k = advisor.propose().knobs
    advisor.feedback(k, None)
    assert advisor.propose() is not None
    assert advisor.best() is None


def test_arch_knob_gets_random_choices_per_position():
    advisor = make_advisor(
        {"arch": ArchKnob([[0], ["a", "b", "c"], [0, 1]]), "n": IntegerKnob(1, 3)}, seed=2
    )
    assert isinstance(advisor, RandomAdvisor)
    seen = set()
    for _ in range(30):
        k = advisor.propose().knobs
        assert k["arch"][0] == 0 and k["arch"][1] in "abc" and k["arch"][2] in (0, 1)
        seen.add(tuple(k["arch"]))
        advisor.feedback(k, 0.0)
    assert len(seen) > 3


@pytest.mark.parametrize("bad", [{"x": 1}, []])
def test_advisor_rejects_invalid_configs(bad):
    with pytest.raises(ValueError):
        make_advisor(bad)


def test_a_kept_advisor_never_replays_its_history(monkeypatch):
    """Trials proposed elsewhere (pending, then feedback) and its own are added to the study
    once each: the cost of telling it grows with what changed, not with the job."""
    import optuna

    added = []
    original = optuna.Study.add_trial
    monkeypatch.setattr(
        optuna.Study,
        "add_trial",
        lambda self, trial: added.append(trial.state) or original(self, trial),
    )
    advisor = make_advisor(CONFIG, seed=4)
    for i in range(30):
        own = advisor.propose().knobs
        elsewhere = {**own, "depth": 1 + i % 20, "lr": 0.5}  # another worker's trial
        advisor.pending(elsewhere)
        advisor.feedback(own, _score(own))
        advisor.feedback(elsewhere, None if i % 5 == 0 else _score(elsewhere))
    # Only the 30 trials proposed elsewhere were added (as RUNNING, then told their result).
    assert len(added) == 30 and set(added) == {optuna.trial.TrialState.RUNNING}
    states = [t.state.name for t in advisor._study.get_trials(deepcopy=False)]
    assert len(states) == 60 and "RUNNING" not in states
    assert states.count("FAIL") == 6
    assert advisor.best()[1] == max(s for _, s in advisor.history if s is not None)
