"""The protocol's ``[clinicaltrials]`` table: optional, validated with the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.protocols import ProtocolError, load_protocol
from services.settings import FLAGSHIP_PROTOCOL

HEAD = 'slug = "t"\ntitle = "T"\nquery = "psilocybin"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.toml"
    path.write_text(HEAD + text)
    return path


def test_the_table_is_optional(tmp_path: Path) -> None:
    assert load_protocol(write(tmp_path, "")).clinicaltrials is None


def test_the_flagship_review_has_a_registry_query() -> None:
    spec = load_protocol(FLAGSHIP_PROTOCOL).clinicaltrials
    assert spec is not None and "psilocybin" in spec.intervention
    assert "microdosing" in spec.term and spec.page_size == 100


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ("[clinicaltrials]\npage_size = 10\n", "field clinicaltrials: Value error, needs at least"),
        ('[clinicaltrials]\nterm = "x"\npage_size = 5000\n', "field clinicaltrials.page_size"),
        ('[clinicaltrials]\nterms = "x"\n', "field clinicaltrials.terms: Extra inputs"),
    ],
)
def test_a_bad_table_names_the_file_and_field(tmp_path: Path, table: str, problem: str) -> None:
    path = write(tmp_path, table)
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert str(err.value).startswith(f"protocol file {path}: {problem}")
