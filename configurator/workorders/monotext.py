"""The traveller's lists and tables as monospaced text laid out here, not by WeasyPrint.

WeasyPrint spends about a millisecond on every box it lays out (a table cell, a paragraph)
and a fifth of that on a line inside one preformatted block. Wrapping and padding the columns
here, where a monospaced character's width is known exactly, turns a 13-row table of 39 cells
into one block of lines, and keeps a traveller's render within a few tens of milliseconds.
"""
from __future__ import annotations

import textwrap
import unicodedata
from dataclasses import dataclass

LEADER = "·"  # dots from a label to its value, so the eye keeps the row across the gap
RULE = "─"  # a group heading's rule, drawn with the text instead of as a box


@dataclass(frozen=True)
class Column:
    """A text column: `width` characters, its cells wrapped to fit, `right` aligned or left."""

    width: int
    right: bool = False


def cell_width(text: str) -> int:
    """How many character cells `text` takes in a monospaced font: a Chinese, Japanese or
    Korean character (East Asian wide or fullwidth) takes two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` cells (long words broken), at least one line."""
    text = " ".join(str(text).split())
    if cell_width(text) == len(text):
        return textwrap.wrap(text, width, break_on_hyphens=False) or [""]
    return _wrap_wide(text, width)


def _wrap_wide(text: str, width: int) -> list[str]:
    """Greedy wrapping by cells, for text with wide characters: break at a space where one
    fits, else between any two characters (as CJK text may)."""
    lines, line = [], ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if cell_width(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for ch in word:
            if line and cell_width(line + ch) > width:
                lines.append(line)
                line = ""
            line += ch
    return lines + [line] if line or not lines else lines


def text_rows(rows: list[list[str]], columns: list[Column], gap: int = 2) -> list[str]:
    """Each row's cells wrapped in their columns and set side by side: one string per row,
    several lines (joined by newlines) where a cell wraps.

    The cells after the first one that wraps sit on its last line, so each cell's text stays
    in one piece in reading order (what a PDF's text, and a search in it, shows)."""
    out = []
    for row in rows:
        cells, top = [], 0
        for cell, column in zip(row, columns):
            lines = wrap(cell, column.width)
            cells.append((top, lines, column))
            if len(lines) > 1 and not top:
                top = len(lines) - 1
        height = max(start + len(lines) for start, lines, _ in cells)
        out.append("\n".join(
            (" " * gap).join(_pad(_line(lines, n - start), column)
                             for start, lines, column in cells).rstrip()
            for n in range(height)))
    return out


def fact_rows(rows: list[list[tuple[str, str]]], label_chars: int,
              value_columns: list[Column], gap: int = 2) -> tuple[str, str]:
    """Rows of (label, value) pairs as a block of labels and a block of values to lay one over
    the other (labels in one style, values in another). A row's last value takes the rest of
    the width; it is the only one that should be able to wrap, as the lines of a wrapped cell
    before others would interleave with theirs."""
    labels, values = [], []
    for row in rows:
        widths = [column.width for column in value_columns[:len(row)]]
        widths[-1] += sum(label_chars + column.width + 2 * gap
                          for column in value_columns[len(row):])
        columns = [column for width in widths for column in (Column(label_chars), Column(width))]
        value_lines = text_rows([[cell for _, value in row for cell in ("", value)]],
                                columns, gap)[0].split("\n")
        label_lines = text_rows([[cell for label, _ in row for cell in (label, "")]],
                                columns, gap)[0].split("\n")
        height = max(len(label_lines), len(value_lines))
        labels += label_lines + [""] * (height - len(label_lines))
        values += value_lines + [""] * (height - len(value_lines))
    return "\n".join(labels), "\n".join(values)


def _line(lines: list[str], n: int) -> str:
    return lines[n] if 0 <= n < len(lines) else ""


def _pad(text: str, column: Column) -> str:
    room = " " * max(0, column.width - cell_width(text))
    return room + text if column.right else text + room


def labelled_lines(groups: list[tuple[str, list[dict]]], label_chars: int, value_chars: int,
                   right: bool = False) -> str:
    """Groups of label/value rows as one block of lines: each group under a ruled heading,
    each label followed by dot leaders to its value. A label that wraps has its value on its
    last line, so label and value each stay in one piece."""
    lines = []
    for group, rows in groups:
        if group:
            lines.append(_heading(group, label_chars + value_chars))
        for row in rows:
            value = f"{row['value']} {row['unit']}".strip() if row.get("unit") else row["value"]
            labels = wrap(row["label"], label_chars - 1)
            labels[-1] = _leaders(labels[-1], label_chars)
            lines += [label.rstrip() for label in labels[:-1]]
            values = [_pad(line, Column(value_chars, right)) for line in wrap(value, value_chars)]
            lines.append((_pad(labels[-1], Column(label_chars)) + values[0]).rstrip())
            lines += [(" " * label_chars + line).rstrip() for line in values[1:]]
    return "\n".join(lines)


def _heading(text: str, width: int) -> str:
    return f"{text.upper()} {RULE * max(2, width - cell_width(text) - 1)}"


def _leaders(label: str, width: int) -> str:
    room = width - 1 - cell_width(label)
    return f"{label} {LEADER * (room - 1)}" if room > 2 else label
