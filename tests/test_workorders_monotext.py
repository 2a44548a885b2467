"""The traveller's monospaced lists and tables: columns line up, and every cell stays in one
piece in reading order, which is what a PDF's text (and a search in it) shows."""
from configurator.workorders.monotext import (Column, cell_width, fact_rows, labelled_lines,
                                              text_rows, wrap)


def test_cells_are_padded_to_their_columns():
    columns = [Column(8), Column(6, right=True), Column(10)]
    rows = text_rows([["Cotton", "0.6 m", "pockets"]], columns)
    assert rows == ["Cotton     0.6 m  pockets"]


def test_cells_after_a_wrapped_cell_sit_on_its_last_line():
    [row] = text_rows([["1 · Drum", "Build drum and tub: bearings, seal", "39.6"]],
                      [Column(10), Column(20), Column(5, right=True)])
    assert row.split("\n") == ["1 · Drum    Build drum and tub:",
                               "            bearings, seal         39.6"]


def test_a_long_word_is_broken_rather_than_running_out_of_its_column():
    [row] = text_rows([["x" * 12, "1"]], [Column(5), Column(1)])
    assert row.split("\n") == ["xxxxx", "xxxxx", "xx     1"]


def test_labels_lead_with_dots_to_their_values_under_a_ruled_heading():
    text = labelled_lines([("Jacket", [{"label": "Lapel", "value": "Notch lapel"}])], 12, 12)
    assert text.split("\n") == ["JACKET " + "─" * 17, "Lapel ····· Notch lapel"]


def test_a_wrapped_label_has_its_value_on_its_last_line():
    text = labelled_lines([("", [{"label": "Sleeve (shoulder to wrist)", "value": "62",
                                  "unit": "cm"}])], 14, 8, right=True)
    assert text.split("\n") == ["Sleeve", "(shoulder to", "wrist) ······    62 cm"]


def test_facts_give_labels_and_values_the_same_lines_and_the_last_value_the_rest_of_the_row():
    labels, values = fact_rows([[("ORDER", "C2B-1"), ("UNIT", "1 of 1")],
                                [("CUSTOMER", "Maximiliana Wilhelmina von Hohenzollern")]],
                               8, [Column(6), Column(10)])
    assert labels.split("\n") == ["ORDER             UNIT", "CUSTOMER", ""]
    assert values.split("\n") == ["          C2B-1             1 of 1",
                                  "          Maximiliana Wilhelmina von",
                                  "          Hohenzollern"]


def test_chinese_japanese_and_korean_characters_take_two_cells():
    assert cell_width("山田 太郎") == 9 and cell_width("Ελένη") == 5 and cell_width("김민준") == 6
    rows = text_rows([["山田", "1"]], [Column(6), Column(1)])
    assert rows == ["山田    1"]  # two wide characters and two spaces fill six cells


def test_wide_text_wraps_by_cells_at_spaces_or_between_characters():
    assert wrap("山田 太郎 Yamada", 10) == ["山田 太郎", "Yamada"]
    assert wrap("東京都千代田区丸の内", 8) == ["東京都千", "代田区丸", "の内"]
    assert all(cell_width(line) <= 8 for line in wrap("김민준 Kim Min-jun 서울특별시 강남구", 8))
