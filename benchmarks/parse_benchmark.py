"""Speed and peak memory of our PubMed XML parser against Biopython's ``Bio.Entrez``.

Run:  .venv/bin/python -m benchmarks.parse_benchmark [--records 100000] [--out DIR]

The corpus is a PubmedArticleSet built by repeating the 163 real EFetch records
in shared/data/metapub/pmid_xml with fresh unique PMIDs, under the real DOCTYPE
line of the current (2025) DTD. It is built once and cached in ``--out``
(benchmarks/out/ by default, git-ignored).

Each parser runs in its own subprocess so that each peak RSS (VmHWM) is its
own. Biopython's ``Entrez.parse`` refuses a PubmedArticleSet ("not a list"),
so the benchmark falls back to ``Entrez.read``, which holds the whole document
in memory; that child runs under an address-space limit (``--memory-limit-gb``)
so a large corpus ends in a MemoryError instead of exhausting a shared machine.
Biopython is pointed at a local copy of the DTDs from shared/data/biopython so it
never tries the network.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LIVESCREEN_SHARED_DATA", REPO.parent / "shared" / "data"))
DEFAULT_OUT = REPO / "benchmarks" / "out"
FIRST_PMID = 90_000_001  # far above real PMIDs, so the corpus cannot be mistaken for real records
DTD_FILES = (
    "pubmed_250101.dtd",
    "mathml-in-pubmed.mod",
    "mathml3.dtd",
    "mathml3-qname1.mod",
    "mmlalias.ent",
    "mmlextra.ent",
)
_RECORD_PMID = re.compile(r'<PMID Version="(\d+)">(\d+)</PMID>')


@dataclass
class Result:
    parser: str
    corpus: str
    records: int
    seconds: float
    peak_mb: float
    note: str = ""
    error: str = ""

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds and not self.error else 0.0


# --------------------------------------------------------------------------- corpus


def real_articles(source_dir: Path) -> tuple[str, list[tuple[str, str]]]:
    """The DOCTYPE line and each real record split around its own PMID element."""
    doctype = ""
    templates: list[tuple[str, str]] = []
    for path in sorted(source_dir.glob("*.xml")):
        text = path.read_text(encoding="utf-8")
        if not doctype:
            doctype = next(line for line in text.splitlines() if line.startswith("<!DOCTYPE"))
        start = text.find("<PubmedArticle>")
        if start < 0:
            continue  # one file is an empty PubmedArticleSet
        end = text.index("</PubmedArticle>", start) + len("</PubmedArticle>")
        article = text[start:end]
        match = _RECORD_PMID.search(article)  # the first PMID is MedlineCitation's own
        if match is None:
            raise ValueError(f"{path}: no PMID in the record")
        head = article[: match.start()] + f'<PMID Version="{match.group(1)}">'
        templates.append((head, "</PMID>" + article[match.end() :]))
    if not templates:
        raise ValueError(f"no PubmedArticle records under {source_dir}")
    return doctype, templates


def build_corpus(records: int, out_dir: Path, source_dir: Path) -> Path:
    """Write (once) a PubmedArticleSet of ``records`` records; atomic, so never half-written."""
    path = out_dir / f"pubmed_{records}.xml"
    if path.exists():
        return path
    out_dir.mkdir(parents=True, exist_ok=True)
    doctype, templates = real_articles(source_dir)
    partial = path.with_suffix(".xml.partial")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(f'<?xml version="1.0" ?>\n{doctype}\n<PubmedArticleSet>\n')
        for i in range(records):
            head, tail = templates[i % len(templates)]
            handle.write(f"{head}{FIRST_PMID + i}{tail}\n")
        handle.write("</PubmedArticleSet>\n")
    partial.replace(path)
    return path


def local_dtd_dir(out_dir: Path, source_dir: Path) -> Path:
    """A Biopython cache directory holding the current PubMed DTD and its MathML parts."""
    base = out_dir / "biopython-cache"
    target = base / "Bio" / "Entrez" / "DTDs"
    target.mkdir(parents=True, exist_ok=True)
    for name in DTD_FILES:
        if not (target / name).exists():
            shutil.copyfile(source_dir / name, target / name)
    return base


# --------------------------------------------------------------------------- children


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MB (Linux reports ru_maxrss in KiB).

    getrusage allocates nothing, so it still answers right after a MemoryError.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(corpus: Path) -> dict[str, Any]:
    from services.pubmed.parse import iter_pubmed_xml
    from services.records import Record

    started = time.perf_counter()
    count = 0
    other = 0
    for item in iter_pubmed_xml(corpus):
        if isinstance(item, Record):
            count += 1
        else:
            other += 1
    seconds = time.perf_counter() - started
    note = "iter_pubmed_xml (streaming)" + (f", {other} non-Record items" if other else "")
    return {"records": count, "seconds": seconds, "note": note}


def run_biopython(corpus: Path, dtd_cache: Path) -> dict[str, Any]:
    from Bio import Entrez
    from Bio.Entrez.Parser import DataHandler

    DataHandler.directory = str(dtd_cache)  # local DTD dir, checked before Bio's own copy
    started = time.perf_counter()
    count = 0
    mode = "Entrez.parse (streaming)"
    try:
        with corpus.open("rb") as handle:
            for _record in Entrez.parse(handle):
                count += 1
    except ValueError as exc:
        if "not represent a list" not in str(exc) or count:
            raise
        mode = "Entrez.read (whole document in memory; Entrez.parse refused: not a list)"
        started = time.perf_counter()
        with corpus.open("rb") as handle:
            document = Entrez.read(handle)
        count = len(document["PubmedArticle"]) + len(document["PubmedBookArticle"])
    seconds = time.perf_counter() - started
    return {"records": count, "seconds": seconds, "note": mode}


def child_main(which: str, corpus: Path, dtd_cache: Path, memory_limit_gb: float) -> None:
    if memory_limit_gb > 0:
        limit = int(memory_limit_gb * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    payload: dict[str, Any]
    run = run_ours if which == "ours" else partial(run_biopython, dtd_cache=dtd_cache)
    try:
        payload = run(corpus)
    except MemoryError:
        payload = {"error": f"MemoryError under the {memory_limit_gb:g} GB address-space limit"}
    except Exception as exc:  # reported in the table; the parent decides the exit status
        payload = {"error": f"{exc.__class__.__name__}: {str(exc)[:200]}"}
    gc.collect()  # drop what a failed parse left behind before building the report
    payload["peak_mb"] = peak_rss_mb()
    print(json.dumps(payload))


def run_child(which: str, corpus: Path, dtd_cache: Path, memory_limit_gb: float) -> Result:
    command = [
        sys.executable,
        "-m",
        "benchmarks.parse_benchmark",
        "--child",
        which,
        "--corpus",
        str(corpus),
        "--dtd-cache",
        str(dtd_cache),
        "--memory-limit-gb",
        str(memory_limit_gb),
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    name = "livescreen" if which == "ours" else "biopython"
    label = corpus.stem.removeprefix("pubmed_")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Result(name, label, 0, 0.0, 0.0, error=f"exit {done.returncode}: {tail}")
    data = json.loads(lines[-1])
    return Result(
        parser=name,
        corpus=label,
        records=int(data.get("records", 0)),
        seconds=float(data.get("seconds", 0.0)),
        peak_mb=float(data["peak_mb"]),
        note=str(data.get("note", "")),
        error=str(data.get("error", "")),
    )


# --------------------------------------------------------------------------- report


def table(results: list[Result]) -> str:
    header = f"{'parser':<11} {'corpus':>8} {'records':>9} {'seconds':>9} {'records/s':>10}"
    lines = [header + f" {'peak MB':>9}  note"]
    for r in results:
        if r.error:
            numbers = f"{'-':>9} {'-':>9} {'-':>10}"
            lines.append(f"{r.parser:<11} {r.corpus:>8} {numbers} {r.peak_mb:>9.0f}  {r.error}")
        else:
            numbers = f"{r.records:>9} {r.seconds:>9.2f} {r.rate:>10.0f}"
            lines.append(f"{r.parser:<11} {r.corpus:>8} {numbers} {r.peak_mb:>9.0f}  {r.note}")
    for corpus in dict.fromkeys(r.corpus for r in results):
        ours = next((r for r in results if r.corpus == corpus and r.parser == "livescreen"), None)
        theirs = next((r for r in results if r.corpus == corpus and r.parser == "biopython"), None)
        if ours and theirs and ours.rate and theirs.rate:
            lines.append(
                f"on {corpus} records: livescreen is {ours.rate / theirs.rate:.1f}x the records/s "
                f"of biopython; biopython peaks at {theirs.peak_mb / ours.peak_mb:.0f}x the memory"
            )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--records", type=int, default=100_000, help="corpus size")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="cache directory")
    parser.add_argument(
        "--parsers", default="ours,biopython", help="comma-separated: ours, biopython"
    )
    parser.add_argument(
        "--memory-limit-gb",
        type=float,
        default=6.0,
        help="address-space limit for each child (0 = none)",
    )
    parser.add_argument(
        "--biopython-sample",
        type=int,
        default=10_000,
        help="when Biopython fails on the full corpus, also time both parsers on this many",
    )
    parser.add_argument("--child", choices=("ours", "biopython"), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dtd-cache", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(args.child, args.corpus, args.dtd_cache, args.memory_limit_gb)
        return 0
    started = time.perf_counter()
    corpus = build_corpus(args.records, args.out, SHARED_DATA / "metapub" / "pmid_xml")
    dtd_cache = local_dtd_dir(args.out, SHARED_DATA / "biopython")
    size_mb = corpus.stat().st_size / 1024**2
    print(f"corpus: {corpus} ({args.records} records, {size_mb:.0f} MB)", end="")
    print(f" ready in {time.perf_counter() - started:.1f} s")
    parsers = args.parsers.split(",")
    results = [run_child(which, corpus, dtd_cache, args.memory_limit_gb) for which in parsers]
    failed = any(r.error for r in results if r.parser == "biopython")
    if failed and 0 < args.biopython_sample < args.records:
        # Entrez.read holds the whole document; time it where it fits, on the same records.
        sample = build_corpus(args.biopython_sample, args.out, SHARED_DATA / "metapub" / "pmid_xml")
        results += [run_child(which, sample, dtd_cache, args.memory_limit_gb) for which in parsers]
    print(table(results))
    ours_ok = all(not r.error for r in results if r.parser == "livescreen")
    return 0 if ours_ok else 1


if __name__ == "__main__":
    sys.exit(main())
