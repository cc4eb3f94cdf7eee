"""Import speed and peak memory: 100,000-record RIS and nbib files into SQLite.

Run:  .venv/bin/python -m benchmarks.import_benchmark [--records 100000] [--screen] [--out DIR]

The files are built from the real records of the shared data (PubMed XML and the
screening datasets' CSVs) cycled to ``--records``, each with a fresh PMID (RIS: in AN
with an NLM provider, as EndNote writes it) and DOI so that every record is new; they are
cached in ``--out`` (benchmarks/out/, git-ignored). Each import runs in a subprocess of
its own so its peak RSS (VmHWM) is its own, into a fresh SQLite file, by default without
screening (the target is "before screening"; ``--screen`` adds it). Deduplication of the
review at the end of the import is included in the time.
Targets (issue 12): >= 5,000 records/s and < 300 MB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LIVESCREEN_SHARED_DATA", REPO.parent / "shared" / "data"))
DEFAULT_OUT = REPO / "benchmarks" / "out"
FIRST_PMID = 90_000_001  # far above real PMIDs


def _records(count: int) -> Iterator[tuple[int, object]]:
    from tests.imports.duplicate_set import _parsed_records

    base = [r for r in _parsed_records(SHARED_DATA) if r.title]
    for record in base:  # one line per field, as the exporting tools write them
        record.title = " ".join(record.title.split())
        record.abstract = " ".join(record.abstract.split()) if record.abstract else None
    for n in range(count):
        yield n, base[n % len(base)]


def _ris(n: int, r: object) -> str:
    lines = ["TY  - JOUR", f"TI  - {r.title} (copy {n})"]  # type: ignore[attr-defined]
    lines += [f"AU  - {a}" for a in r.authors]  # type: ignore[attr-defined]
    if r.abstract:  # type: ignore[attr-defined]
        lines.append(f"AB  - {r.abstract}")  # type: ignore[attr-defined]
    lines += [
        f"PY  - {r.year or 2000}",  # type: ignore[attr-defined]
        f"T2  - {r.journal}",  # type: ignore[attr-defined]
        f"DO  - 10.9999/bench.{n}",
        f"AN  - {FIRST_PMID + n}",
        "DP  - NLM",
        "ER  - ",
        "",
    ]
    return "\n".join(lines) + "\n"


def _nbib(n: int, r: object) -> str:
    lines = [f"PMID- {FIRST_PMID + n}", f"TI  - {r.title} (copy {n})"]  # type: ignore[attr-defined]
    if r.abstract:  # type: ignore[attr-defined]
        lines.append(f"AB  - {r.abstract}")  # type: ignore[attr-defined]
    lines += [f"FAU - {a}" for a in r.authors]  # type: ignore[attr-defined]
    lines += [
        f"DP  - {r.year or 2000}",  # type: ignore[attr-defined]
        f"JT  - {r.journal}",  # type: ignore[attr-defined]
        f"LID - 10.9999/bench.{n} [doi]",
        "",
    ]
    return "\n".join(lines) + "\n"


def build_file(fmt: str, count: int, out: Path) -> Path:
    path = out / f"import-{count}.{fmt}"
    if path.exists():
        return path
    out.mkdir(parents=True, exist_ok=True)
    write = _ris if fmt == "ris" else _nbib
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as handle:
        for n, record in _records(count):
            handle.write(write(n, record))
    partial.rename(path)
    return path


def _child(path: Path, fmt: str, screen: bool) -> None:
    """Import one file into a fresh SQLite database; print records/s and peak RSS."""
    from services.imports.commands import run_import
    from services.runtime import build_runtime
    from services.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        protocol = Path(folder) / "bench.toml"
        protocol.write_text('slug = "bench"\ntitle = "Bench"\nquery = "x"\n')
        source = REPO / "protocols" / "psilocybin-microdosing.toml"
        protocols = [source] if screen else [protocol]
        settings = Settings(database_url=f"sqlite:///{folder}/bench.db", protocols=protocols)  # type: ignore[call-arg]
        runtime = build_runtime(settings)
        started = time.perf_counter()
        report = run_import(runtime, slug=None, path=path, fmt=fmt, screen=screen).to_json()
        seconds = time.perf_counter() - started
        runtime.close()
    peak = _peak_mb()
    print(json.dumps({
        "format": fmt, "records": report["imported"], "new": report["new"],
        "bad": report["bad"], "screened": report["screened"], "seconds": round(seconds, 1),
        "records_per_second": round(report["imported"] / seconds), "peak_rss_mb": peak,
    }))  # fmt: skip


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--screen", action="store_true", help="screen while importing")
    parser.add_argument("--format", action="append", choices=["ris", "nbib"])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--child", nargs=2, metavar=("FILE", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    if args.child:
        _child(Path(args.child[0]), args.child[1], args.screen)
        return 0
    ok = True
    for fmt in args.format or ["ris", "nbib"]:
        path = build_file(fmt, args.records, args.out)
        command = [sys.executable, "-m", "benchmarks.import_benchmark", "--child", str(path), fmt]
        done = subprocess.run(
            command + (["--screen"] if args.screen else []),
            cwd=REPO, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            print(f"{fmt}: failed: {done.stderr.strip().splitlines()[-1:]}")
            ok = False
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps(result))
        if not args.screen:
            ok = ok and result["records_per_second"] >= 5000 and result["peak_rss_mb"] < 300
    if args.screen:
        print("with screening: compare with benchmarks.classify_benchmark (targets are without)")
    else:
        print(
            "targets (>= 5,000 records/s, < 300 MB before screening):", "met" if ok else "NOT met"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
