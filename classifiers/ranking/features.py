"""Feature rows for ranking: one sparse matrix for all records of a review, built once.

Why once: a learning cycle retrains many times on a growing set of labels, but the
records themselves do not change, so the TF-IDF vocabulary and weights are fitted on
every record's text (no labels are used, so nothing leaks) and each retrain only
slices rows. Extra numeric columns (the criteria's verdicts, ``p_include``) are
appended as dense columns scaled to the text block, so the rules' judgement is a
feature the model can learn to trust or ignore.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

MAX_DF_FROM = 20  # records; fewer and ``max_df`` is not applied


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """How text becomes features; stored as data in a run's model spec."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] | None = None
    min_df: int = 1
    max_df: float = 0.95
    sublinear_tf: bool = True
    keyword_weight: float = 0.15
    extra_weight: float = 1.0

    def params(self) -> dict[str, Any]:
        return {
            "word_ngrams": list(self.word_ngrams),
            "char_ngrams": list(self.char_ngrams) if self.char_ngrams else None,
            "min_df": self.min_df,
            "max_df": self.max_df,
            "sublinear_tf": self.sublinear_tf,
            "keyword_weight": self.keyword_weight,
            "extra_weight": self.extra_weight,
        }


@dataclass(slots=True)
class RecordText:
    """What the features see of one record."""

    title: str = ""
    abstract: str = ""
    keywords: Sequence[str] = field(default_factory=tuple)
    extra: Mapping[str, float] = field(default_factory=dict)


def _text(record: RecordText) -> str:
    return f"{record.title or ''}. {record.abstract or ''}"


def _keyword_doc(record: RecordText) -> str:
    # One token per keyword/MeSH term, so "Depression, Postpartum" stays one feature.
    return " ".join(
        "kw_" + "_".join(str(term).lower().split()) for term in record.keywords if str(term).strip()
    )


def build_features(records: Sequence[RecordText], spec: FeatureSpec | None = None) -> sp.csr_matrix:
    """A CSR matrix with one row per record, in input order.

    Raises ``ValueError`` naming the problem when there are no records or no text at
    all, because an empty vocabulary would otherwise surface as a scikit-learn error.
    """
    spec = spec or FeatureSpec()
    if not records:
        raise ValueError("no records to build ranking features from")
    texts = [_text(r) for r in records]
    if not any(t.strip(". ") for t in texts):
        raise ValueError("no record has a title or an abstract to rank on")
    if any(value < 0 for r in records for value in r.extra.values()):
        raise ValueError("extra feature columns must be non-negative (one-hot or in [0, 1])")
    blocks: list[sp.csr_matrix] = []
    word = TfidfVectorizer(
        ngram_range=spec.word_ngrams,
        min_df=spec.min_df if len(records) > spec.min_df else 1,
        # Dropping words in more than max_df of the records only makes sense on real
        # collections; on a handful every word can be "everywhere" and none would be left.
        max_df=spec.max_df if len(records) >= MAX_DF_FROM else 1.0,
        sublinear_tf=spec.sublinear_tf,
        strip_accents="unicode",
        dtype=np.float32,
    )
    try:
        blocks.append(word.fit_transform(texts).tocsr())
    except ValueError:  # scikit-learn's "empty vocabulary": no word of 2+ letters anywhere
        raise ValueError("no record has a word to rank on in its title or abstract") from None
    if spec.char_ngrams:
        char = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=spec.char_ngrams,
            min_df=spec.min_df if len(records) > spec.min_df else 1,
            sublinear_tf=spec.sublinear_tf,
            dtype=np.float32,
        )
        blocks.append(char.fit_transform(texts).tocsr())
    keyword_docs = [_keyword_doc(r) for r in records]
    if spec.keyword_weight and any(keyword_docs):
        kw = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, dtype=np.float32)
        blocks.append((kw.fit_transform(keyword_docs) * spec.keyword_weight).tocsr())
    extra_names = sorted({name for r in records for name in r.extra})
    if extra_names:
        dense = np.array(
            [[float(r.extra.get(name, 0.0)) for name in extra_names] for r in records],
            dtype=np.float32,
        )
        blocks.append(sp.csr_matrix(dense * spec.extra_weight))
    matrix = sp.hstack(blocks, format="csr", dtype=np.float32)
    matrix.sort_indices()  # once here, not in every model's input check
    return matrix


def verdict_columns(
    verdicts: Mapping[str, str], p_include: float | None = None
) -> dict[str, float]:
    """Criteria verdicts one-hot (``verdict:substance=met`` = 1) and p_include as columns.

    One-hot rather than +1/-1 keeps every feature non-negative, which the Naive Bayes
    models need, and lets a model weigh "unclear" on its own.
    """
    columns = {f"verdict:{name}={value}": 1.0 for name, value in verdicts.items()}
    if p_include is not None:
        columns["p_include"] = float(p_include)
    return columns
