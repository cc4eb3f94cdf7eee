"""``livescreen prisma``: write a review's PRISMA 2020 flow diagram to an SVG or PNG file.

The format is the output file's suffix. Expected failures (an unknown suffix, a review
without records, PNG without the ``plots`` extra) are one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from services.settings import Settings

FORMATS = (".svg", ".png")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("prisma", help="write a review's PRISMA 2020 flow diagram")
    p.add_argument("--review", metavar="SLUG", help="review slug (default: the only one)")
    p.add_argument(
        "--output", "-o", required=True, metavar="FILE", help="FILE.svg, or FILE.png (plots extra)"
    )
    p.set_defaults(func=cmd_prisma)


def _fail(message: str) -> int:
    print(f"livescreen prisma: error: {message}", file=sys.stderr)
    return 1


def diagram(runtime: Any, *, slug: str | None, fmt: str) -> bytes:
    """The diagram of the review ``slug`` (or the only one) as ``.svg`` or ``.png`` bytes.

    Raises LookupError when no sweep or import has created the review yet."""
    from sqlmodel import select

    from services.db.models import Review
    from services.reports.prisma import prisma_numbers
    from services.reports.prisma_svg import render_png, render_svg

    protocol = runtime.protocol(slug)
    with runtime.sessions() as session:
        review = session.exec(select(Review).where(Review.slug == protocol.slug)).first()
        if review is None:
            raise LookupError(
                f"review {protocol.slug!r} has no records yet (run livescreen sweep or import)"
            )
        numbers = prisma_numbers(
            session=session, review=review, required=protocol.required_decisions
        )
    svg = render_svg(numbers)
    return render_png(svg) if fmt == ".png" else svg


def cmd_prisma(args: argparse.Namespace, settings: Settings) -> int:
    from services.reports.prisma_svg import PngUnavailable
    from services.runtime import build_runtime

    output = Path(args.output)
    fmt = output.suffix.lower()
    if fmt not in FORMATS:
        return _fail(f"--output {args.output}: the file must end in .svg or .png")
    if not output.parent.is_dir():
        return _fail(f"--output {args.output}: folder {output.parent} does not exist")
    runtime = build_runtime(settings)
    try:
        data = diagram(runtime, slug=args.review, fmt=fmt)
    except (LookupError, PngUnavailable) as exc:
        return _fail(str(exc))
    finally:
        runtime.close()
    try:
        output.write_bytes(data)
    except OSError as exc:
        return _fail(f"--output {args.output}: {exc.strerror or exc}")
    print(f"wrote {output} ({len(data):,} bytes)")
    return 0
