"""Active-learning ranking of the screening queue (pure: numpy, scipy, scikit-learn).

``features`` builds sparse rows once per review, ``cycle.run_cycle`` trains on the
human labels so far and ranks the rest, ``stopping`` says when screening may stop.
"""

from classifiers.ranking.cycle import CycleResult, CycleSpec, run_cycle
from classifiers.ranking.features import FeatureSpec, RecordText, build_features
from classifiers.ranking.stopping import StoppingState, first_stop, stopping_state

__all__ = [
    "CycleResult",
    "CycleSpec",
    "FeatureSpec",
    "RecordText",
    "StoppingState",
    "build_features",
    "first_stop",
    "run_cycle",
    "stopping_state",
]
