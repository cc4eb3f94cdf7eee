"""Opening an import file: its content hash and text encoding, found in one streaming pass.

Files from reference managers come in every encoding a desktop has: UTF-8 with or without
a byte-order mark, UTF-16 with one (Excel's "Unicode text"), and Windows-1252 or Latin-1
from older tools. A BOM decides at once; otherwise the whole file is checked as UTF-8 in
chunks (memory stays flat) and falls back to cp1252, then Latin-1, which accepts any byte.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"


class SourceError(ValueError):
    """The file cannot be read at all (missing, a directory, unreadable)."""


@dataclass(frozen=True)
class Source:
    path: Path
    content_hash: str  # sha256 of the bytes, so the same file imported twice is recognised
    encoding: str  # a Python codec name; "binary" for gzip (the XML reader opens those itself)
    head: bytes  # the first bytes, for sniffing the format

    @property
    def gzipped(self) -> bool:
        return self.head.startswith(GZIP_MAGIC)

    def text(self, newline: str | None = None) -> TextIO:
        """The file as text; ``newline=""`` keeps line endings for the csv module."""
        return open(self.path, encoding=self.encoding, newline=newline)  # noqa: SIM115

    def sample(self, size: int = 16384) -> str:
        """The start of the text, decoded leniently (a cut multi-byte character is harmless)."""
        if self.gzipped:
            import gzip

            with gzip.open(self.path, "rb") as handle:
                return handle.read(size).decode("utf-8", "replace")
        return self.head[:size].decode(self.encoding, "replace").lstrip("\ufeff")


def _bom_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def open_source(path: str | Path) -> Source:
    """Hash the file and settle its encoding; a file that cannot be opened is a SourceError."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    if path.is_dir():
        raise SourceError(f"{path}: is a directory, not a file")
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    head = b""
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                if not head:
                    head = chunk[:65536]
                digest.update(chunk)
                if _bom_encoding(head) or head.startswith(GZIP_MAGIC):
                    continue
                utf8_ok = utf8_ok and _decodes(utf8, chunk)
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if head.startswith(GZIP_MAGIC):
        encoding = "binary"
    else:
        found = _bom_encoding(head)
        if found is None and utf8_ok and _decodes(utf8, b"", final=True):
            found = "utf-8"
        encoding = found or ("cp1252" if _cp1252_all(path) else "latin-1")
    return Source(path=path, content_hash=digest.hexdigest(), encoding=encoding, head=head)


def _decodes(decoder: codecs.IncrementalDecoder, chunk: bytes, final: bool = False) -> bool:
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True


def _cp1252_all(path: Path) -> bool:
    """A second pass only for non-UTF-8 files: cp1252 leaves five bytes undefined."""
    decoder = codecs.getincrementaldecoder("cp1252")()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            if not _decodes(decoder, chunk):
                return False
    return True
