"""The ``design`` kind (is there an assigned comparison condition?), as a small package.

``vocabulary`` holds the word lists, one per design fact; ``criterion`` extracts the
facts from a record and judges them.
"""

from __future__ import annotations

from classifiers.criteria.design.criterion import DesignCriterion

__all__ = ["DesignCriterion"]
