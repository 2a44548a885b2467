"""Many stored work orders as one PDF (in print order) or one zip."""
from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path

from pypdf import PdfWriter


def primary_material(bill: Sequence[dict]) -> str:
    """The material a unit is mostly made of (largest cost), so a cutter can batch by cloth."""
    def cost(line: dict) -> Decimal:
        return Decimal(str(line.get("quantity", 0))) * Decimal(str(line.get("unit_cost", 0)))

    return max(bill, key=cost)["material"] if bill else ""


def print_order_key(unit) -> tuple:
    """Promised date, then material, then unit code."""
    return (unit.promised_date, primary_material(unit.bill), unit.code)


def merge_pdfs(paths: Iterable[Path], progress: Callable[[int], None] | None = None) -> bytes:
    """One PDF holding every page of `paths`, in order."""
    writer = PdfWriter()
    for done, path in enumerate(paths, start=1):
        writer.append(str(path))
        if progress:
            progress(done)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_pdfs(items: Iterable[tuple[str, Path]]) -> bytes:
    """A zip of the files, named so they sort in print order. PDFs are compressed already."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, path in items:
            archive.write(path, name)
    return out.getvalue()
