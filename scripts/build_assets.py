"""Build the gated PDFs in assets/ from their Markdown sources in assets/src/ (deterministic)."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "assets" / "src"
OUTPUT = ROOT / "assets"
# Fixed so that rebuilding an unchanged source gives identical bytes.
CREATED = datetime(2026, 11, 1, tzinfo=UTC)
INK = (31, 41, 55)
ACCENT = (37, 99, 235)


class Document(FPDF):
    """A plain A4 document with a running footer."""

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.set_text_color(107, 114, 128)
        self.cell(0, 10, f"Lodestone  |  page {self.page_no()}", align="C")


def _text(line: str) -> str:
    """Core PDF fonts are Latin-1: keep the source's meaning, drop typographic extras."""
    return line.replace("\u2019", "'").replace("\u2014", " - ").replace("\u2013", "-")


def render(source: Path, target: Path) -> None:
    """Render one Markdown source (headings, paragraphs, bullets, checkboxes) to a PDF."""
    pdf = Document(format="A4")
    pdf.set_creation_date(CREATED)
    pdf.set_title(source.stem.replace("-", " ").title())
    pdf.set_author("Lodestone")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_text_color(*INK)
    for raw in source.read_text(encoding="utf-8").split("\n\n"):
        block = _text(raw.strip())
        if not block:
            continue
        if block.startswith("# "):
            pdf.set_font("Helvetica", "B", 22)
            pdf.set_text_color(*ACCENT)
            pdf.multi_cell(0, 10, block[2:])
            pdf.set_text_color(*INK)
            pdf.ln(2)
        elif block.startswith("## "):
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 14)
            pdf.multi_cell(0, 8, block[3:])
            pdf.ln(1)
        elif block.startswith("- "):
            pdf.set_font("Helvetica", size=11)
            for item in block.split("\n- "):
                item = item.removeprefix("- ")
                checkbox = re.match(r"\[ \] ", item)
                marker = "[  ]" if checkbox else "-"
                body = item[4:] if checkbox else item
                pdf.set_x(24)
                pdf.cell(8, 6, marker)
                pdf.multi_cell(0, 6, " ".join(body.split()), markdown=True)
                pdf.ln(1)
            pdf.ln(2)
        else:
            pdf.set_font("Helvetica", size=11)
            pdf.multi_cell(0, 6, " ".join(block.split()), markdown=True)
            pdf.ln(3)
    pdf.output(str(target))


def main() -> int:
    for source in sorted(SOURCES.glob("*.md")):
        target = OUTPUT / f"{source.stem}.pdf"
        render(source, target)
        print(f"{target.relative_to(ROOT)}  {target.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
