"""Place options answer to either script."""

from __future__ import annotations

from search_app.places import known_spellings, option_label


def test_label_carries_the_simplified_spelling_so_either_script_finds_it():
    label = option_label("辰溪縣", 22)
    assert "辰溪縣" in label and "辰溪县" in label and label.endswith("(22)")
    assert option_label("金城乡", 3) == "金城乡 (3)"


def test_url_values_map_to_the_spelling_the_index_uses():
    known = ["辰溪縣", "博爱县", "湟中区"]
    assert known_spellings(["辰溪县"], known) == ("辰溪縣",)
    assert known_spellings(["辰溪縣", "博爱县"], known) == ("辰溪縣", "博爱县")
    assert known_spellings(["不存在县"], known) == ("不存在县",)
