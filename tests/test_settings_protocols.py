from pathlib import Path

import pytest

from services.protocols import ProtocolError, load_protocol, load_protocols
from services.settings import FLAGSHIP_PROTOCOL, Settings


def test_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("LIVESCREEN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    s = Settings()
    assert s.database_url == "sqlite:////srv/data/livescreen/livescreen.db"
    assert s.database_location() == "/srv/data/livescreen/livescreen.db"
    assert s.broker_url == "" and not s.uses_broker
    assert s.esearch_limit == 9999
    assert s.ncbi_tool == "livescreen"
    assert s.protocols == [FLAGSHIP_PROTOCOL]
    assert s.requests_per_second == 3.0


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVESCREEN_DATABASE_URL", "postgresql+psycopg://x@h/db")
    monkeypatch.setenv("LIVESCREEN_NCBI_API_KEY", "k")
    monkeypatch.setenv("LIVESCREEN_PROTOCOLS", "a.toml, b.toml")
    s = Settings()
    assert s.database_url == "postgresql+psycopg://x@h/db"
    assert s.requests_per_second == 10.0
    assert s.protocols == [Path("a.toml"), Path("b.toml")]


def test_flagship_protocol_loads() -> None:
    p = load_protocol(FLAGSHIP_PROTOCOL)
    assert p.slug == "psilocybin-microdosing"
    assert "psilocybin[tiab]" in p.query
    assert [c.name for c in p.criteria] == ["psilocybin", "low_dose", "controlled", "primary_study"]
    assert len(p.version) == 12


def test_bad_protocol_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('slug = "Bad Slug"\ntitle = "t"\nquery = "x"\n')
    with pytest.raises(ProtocolError, match=r"bad\.toml: field slug"):
        load_protocol(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("slug = \n")
    with pytest.raises(ProtocolError, match="not valid TOML"):
        load_protocol(broken)
    with pytest.raises(ProtocolError, match="not found"):
        load_protocol(tmp_path / "missing.toml")


def test_duplicate_slugs_rejected(tmp_path: Path) -> None:
    one = tmp_path / "one.toml"
    one.write_text('slug = "x"\ntitle = "t"\nquery = "q"\n')
    two = tmp_path / "two.toml"
    two.write_text(one.read_text())
    with pytest.raises(ProtocolError, match="already defined"):
        load_protocols([one, two])


def test_protocol_version_changes_with_criteria(tmp_path: Path) -> None:
    base = 'slug = "x"\ntitle = "t"\nquery = "q"\n'
    a = tmp_path / "a.toml"
    a.write_text(base + '[[criteria]]\nname = "c"\nkind = "dose"\nmax_mg = 5\n')
    b = tmp_path / "b.toml"
    b.write_text(base + '[[criteria]]\nname = "c"\nkind = "dose"\nmax_mg = 6\n')
    assert load_protocol(a).version != load_protocol(b).version
    assert load_protocol(a).criteria_config == [{"name": "c", "kind": "dose", "max_mg": 5}]


CRITERION_HEADER = 'slug = "x"\ntitle = "t"\nquery = "q"\n[[criteria]]\n'


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'name = "low_dose"\nkind = "dosage"\n',
            "criterion 'low_dose': unknown kind 'dosage' (known kinds: design, dose, ",
        ),
        (
            'name = "ps"\nkind = "substance"\nterms = ["psilo(cybin"]\n',
            "criterion 'ps' (kind 'substance'): parameter 'terms': invalid regular expression "
            "'psilo(cybin': missing ), unterminated subpattern at position 5",
        ),
        (
            'name = "ps"\nkind = "substance"\nterms = ["psilocybin", "(?i)psilocin"]\n',
            "criterion 'ps' (kind 'substance'): parameter 'terms': invalid regular expression "
            "'(?i)psilocin' in a list of terms: global flags not at the start",
        ),
        (
            'name = "low_dose"\nkind = "dose"\nmax_mg = "five"\n',
            "criterion 'low_dose' (kind 'dose'): parameter 'max_mg' must be a positive number",
        ),
        (
            'name = "low_dose"\nkind = "dose"\nmax_mg = inf\n',
            "criterion 'low_dose' (kind 'dose'): parameter 'max_mg': must be finite, got inf",
        ),
        (
            'name = "pt"\nkind = "publication_type"\ntrial_protocols_count = "yes"\n',
            "criterion 'pt' (kind 'publication_type'): parameter 'trial_protocols_count': "
            "must be true or false, got 'yes'",
        ),
        ('name = "low_dose"\n', "criterion 'low_dose' ([[criteria]] table 1): field kind: "),
    ],
    ids=["kind", "regex", "joined-regex", "type", "infinite", "boolean", "no-kind"],
)
def test_criteria_are_built_when_the_file_is_loaded(
    tmp_path: Path, table: str, message: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(CRITERION_HEADER + table)
    with pytest.raises(ProtocolError) as caught:
        load_protocol(bad)
    text = str(caught.value)
    assert text.startswith(f"protocol file {bad}: {message}"), text
    assert "\n" not in text


def test_screening_uses_the_criteria_built_at_load() -> None:
    from services.pipeline.screen import build_screener

    protocol = load_protocol(FLAGSHIP_PROTOCOL)
    built = protocol.build_criteria()
    assert [c.name for c in built] == ["psilocybin", "low_dose", "controlled", "primary_study"]
    assert build_screener(protocol).criteria == list(built)
    # a copy with other criteria is built again, never screened with the old ones
    changed = protocol.model_copy(update={"criteria": protocol.criteria[:1]})
    assert [c.name for c in changed.build_criteria()] == ["psilocybin"]
    # the built criteria are a cache: the same file loaded twice is the same protocol
    assert load_protocol(FLAGSHIP_PROTOCOL) == protocol != changed


def test_a_bad_setting_stops_the_command_in_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "LIVESCREEN_PORT": "eighty"}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "livescreen"), "status"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr == (
        "livescreen status: error: Settings: LIVESCREEN_PORT: Input should be a valid integer, "
        "unable to parse string as an integer, got 'eighty'\n"
    )


def test_unreadable_protocol_files_name_the_file(tmp_path: Path) -> None:
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfeslug")
    with pytest.raises(ProtocolError, match=r"binary\.toml: not UTF-8 text"):
        load_protocol(binary)
    with pytest.raises(ProtocolError, match=rf"{tmp_path.name}: cannot read: Is a directory"):
        load_protocol(tmp_path)


def test_every_command_finds_the_same_database_from_any_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user added from one folder can be listed from another (the newcomer trap: a
    relative ./livescreen.db made a second, empty database in each folder)."""
    from services.cli import main
    from services.settings import get_settings

    for name in list(__import__("os").environ):
        if name.startswith("LIVESCREEN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    protocol = tmp_path / "p.toml"
    protocol.write_text('slug = "p"\ntitle = "P"\nquery = "q"\n')
    monkeypatch.setenv("LIVESCREEN_PROTOCOLS", str(protocol))
    database = tmp_path / "data" / "livescreen" / "livescreen.db"
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    get_settings.cache_clear()
    try:
        monkeypatch.chdir(tmp_path / "one")
        assert main(["users", "add", "alice", "--role", "admin"]) == 0
        assert str(database) in capsys.readouterr().out
        monkeypatch.chdir(tmp_path / "two")
        (tmp_path / "two" / "livescreen.db").write_bytes(b"")  # an old default's leftover
        assert main(["users", "list"]) == 0
        assert "alice" in capsys.readouterr().out
        assert main(["status"]) == 0
        out = capsys.readouterr().out
        assert f"database: {database}" in out
        assert f"note: {tmp_path / 'two' / 'livescreen.db'} is not the database in use" in out
    finally:
        get_settings.cache_clear()
    assert database.is_file()
