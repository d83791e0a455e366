"""The advisor: proposes knob values for the next trial from a knob config and past results.

One ask/tell interface serves ``test_model_class`` and the platform::

    advisor = make_advisor(knob_config, budget, seed=7)
    for knobs, score in finished_trials:       # the platform rebuilds from stored trials
        advisor.feedback(knobs, score)
    proposal = advisor.propose()               # None when there is nothing more to try
"""

from rafiki.advisor.advisor import (
    Advisor,
    BayesOptAdvisor,
    FixedAdvisor,
    Proposal,
    RandomAdvisor,
    make_advisor,
)

__all__ = [
    "Advisor",
    "BayesOptAdvisor",
    "FixedAdvisor",
    "Proposal",
    "RandomAdvisor",
    "make_advisor",
]
