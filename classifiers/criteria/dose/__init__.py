"""The ``dose`` criterion kind: is the dose a study gives a low ("micro") dose?

Doses decide, words only break ties. Published trials state doses as bare
numbers (mg, mg/kg, mg/70 kg, grams of dried mushroom, µg of psilocin) and
rarely call them "micro", while relative "low dose" naming is common for doses
that are not low at all. So the criterion reads every dose, links it to the
substance it belongs to, puts it on the review's scale and compares it with
the protocol's thresholds; vocabulary ("microdose", "sub-perceptual", "below
the head-twitch threshold") is used where the numbers are missing or cannot be
compared (other species, other substances, bath concentrations).

The review must never lose an eligible trial, so ``not_met`` is only given on
positive evidence (every arm above the thresholds, a low arm that is only an
active placebo, a "low-dose" that belongs to aspirin or CT); anything else that
is not clearly low is ``unclear``. All vocabularies and thresholds are
parameters, so another review can reuse the kind with another substance.

The package reads a record in three steps, one module each: ``extraction`` finds the
doses, substances and phrases; ``linking`` ties each dose to its substance and arm
role; ``judgement`` puts the values on the review's scale and gives the verdict.
``vocabulary`` and ``config`` hold the defaults and their validation.
"""

from classifiers.criteria.dose.config import DEFAULT_NAMES, DEFAULT_NUMBERS
from classifiers.criteria.dose.criterion import DoseCriterion
from classifiers.criteria.dose.vocabulary import DEFAULT_TERMS

__all__ = ["DEFAULT_NAMES", "DEFAULT_NUMBERS", "DEFAULT_TERMS", "DoseCriterion"]
