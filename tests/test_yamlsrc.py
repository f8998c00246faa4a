"""Where a problem is reported: a key merged in (`<<: *anchor`) at the line that writes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.yamlsrc import load_yaml

MERGES = """\
base: &base
  a: 1
  b: 2
more: &more
  <<: *base
  c: 3
other: &other {b: 20, d: 4}
listed:
  z: 0
  <<: [*other, *more]
  a: 10
only: {<<: *base}
<<: *other
"""


@pytest.mark.parametrize(("where", "expected"), [
    (("listed", "z"), "9:3: listed.z: bad"),  # its own keys, before and after the merge
    (("listed", "a"), "11:3: listed.a: bad"),  # its own key wins over the merged one
    (("listed", "b"), "7:16: listed.b: bad (merged into listed from line 10)"),  # the first merged mapping wins
    (("listed", "c"), "6:3: listed.c: bad (merged into listed from line 10)"),
    (("listed", "d"), "7:23: listed.d: bad (merged into listed from line 10)"),
    (("more", "a"), "2:3: more.a: bad (merged into more from line 5)"),  # merged twice over: where it is written
    (("only", "a"), "2:3: only.a: bad (merged into only from line 12)"),  # a mapping with no key of its own
    (("only", "missing"), "12:1: only.missing: bad"),
    (("d",), "7:23: d: bad (merged into the top level from line 13)"),
])
def test_a_merged_key_is_located_where_it_is_written(tmp_path: Path, where: tuple[str, ...], expected: str) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(MERGES)
    assert str(load_yaml(path).problem(where, "bad")) == f"{path}:{expected}"


def test_a_huge_integer_beside_a_mapping_without_keys_of_its_own_is_located(tmp_path: Path) -> None:
    path = tmp_path / "file.yaml"
    path.write_text("a: &a {x: 1}\nb:\n  <<: *a\nc: " + "1" * 5000 + "\n")
    with pytest.raises(InputError) as caught:  # was an AttributeError: such a mapping has no line data
        load_yaml(path)
    assert [str(p) for p in caught.value.problems] == [f"{path}:4:4: c: an integer of more than 4300 digits: refused"]
