"""The loader: plain data as Kubernetes reads it, and exact positions."""

from __future__ import annotations

import pytest

from k8slint.loader import DecodeProblem, decode, load_text, locate
from k8slint.model import objects

from .helpers import lint_text


def data_of(text: str):
    loaded = load_text(text)
    assert loaded.problem is None, loaded.problem
    return [d.data for d in loaded.documents]


def test_scalars_as_kubernetes_reads_them():
    """sigs.k8s.io/yaml's go-yaml rules: YAML 1.1's, but `y`/`n` are booleans (as keys too,
    so no key here is called n), `1e3` is a number, base 60 is text, and a number past
    float64's range stays text."""
    (data,) = data_of(
        "a: yes\nb: on\nc: off\nd: 0o17\ne: 017\nf: 0x1f\ng: =\nh: '0o17'\ni: 1_000\n"
        "j: 1:30\nk: ~\nl: 2.5\nm: .inf\nz: 2001-12-14\no: \"yes\"\np: y\nq: N\nr: 1e3\n"
        "s: 08\nt: 22:00\nu: -0b101\nv: 18446744073709551615\nw: 1" + "0" * 400 + "\nx: +.5\n"
    )
    assert data == {
        "a": True, "b": True, "c": False, "d": 15, "e": 15, "f": 31, "g": "=", "h": "0o17",
        "i": 1000, "j": "1:30", "k": None, "l": 2.5, "m": float("inf"), "z": "2001-12-14",
        "o": "yes", "p": True, "q": False, "r": 1000.0, "s": 8.0, "t": "22:00", "u": -5,
        "v": 2**64 - 1, "w": "1" + "0" * 400, "x": 0.5,
    }


def test_python_tags_are_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    (data,) = data_of(
        f"a: !!python/object/apply:os.system ['touch {marker}']\n"
        "b: !!python/name:os.system ''\nc: !Ref thing\n"
    )
    assert data == {"a": [f"touch {marker}"], "b": "", "c": "thing"}
    assert not marker.exists()


def test_aliases_are_built_once_and_shared():
    (data,) = data_of("a: &x {k: [1, 2]}\nb: *x\nc: [*x, *x]\n")
    assert data["a"] is data["b"] is data["c"][0] is data["c"][1]


def test_merge_keys_explicit_keys_win():
    (data,) = data_of("base: &b {x: 1, z: 2}\nm:\n  <<: *b\n  z: 3\n")
    assert data["m"] == {"x": 1, "z": 3}


def test_duplicate_keys_keep_the_last_value_and_are_recorded():
    loaded = load_text("a: 1\nb: 2\na: 3\n")
    (doc,) = loaded.documents
    assert doc.data == {"a": 3, "b": 2}
    (dup,) = doc.duplicates
    assert (dup.key, dup.node.start_mark.line, dup.first.start_mark.line) == ("a", 2, 0)


def test_error_in_second_document_keeps_the_first():
    loaded = load_text("a: 1\n---\nb: [unclosed\n")
    assert [d.data for d in loaded.documents] == [{"a": 1}]
    # The parser stops at the end of the file; the '[' left open is what to fix.
    assert (loaded.problem.line, loaded.problem.column) == (3, 4)
    assert loaded.problem.message == (
        "invalid YAML: while parsing a flow sequence: did not find expected ',' "
        "or ']' (a '[' that is never closed)"
    )


def test_bom_and_crlf_keep_columns():
    text = decode(b"\xef\xbb\xbfapiVersion: v1\r\nkind: Pod\r\nspec:\r\n  x: 1\r\n")
    (doc,) = load_text(text).documents
    pos = locate(doc.root, ("spec", "x"))
    assert (pos.line, pos.column, pos.end_line, pos.end_column) == (4, 3, 4, 4)


def test_utf16_with_bom_is_read():
    assert decode("\ufeffkind: Pod\n".encode("utf-16-le")) == "kind: Pod\n"


def test_undecodable_bytes_name_line_and_column():
    with pytest.raises(DecodeProblem) as info:
        decode(b"a: 1\nname: caf\xe9\n")
    assert (info.value.problem.line, info.value.problem.column) == (2, 10)
    assert "byte 0xe9" in info.value.problem.message


def test_locate_missing_field_points_at_deepest_existing_key():
    (doc,) = load_text("spec:\n  template:\n    spec:\n      containers: []\n").documents
    pos = locate(doc.root, ("spec", "template", "spec", "terminationGracePeriodSeconds"))
    assert (pos.line, pos.column) == (3, 5)


def test_locate_list_item_points_at_its_first_line():
    (doc,) = load_text("items:\n- name: a\n  image: x\n-   name: b\n").documents
    assert (locate(doc.root, ("items", 1)).line, locate(doc.root, ("items", 1)).column) == (4, 5)
    pos = locate(doc.root, ("items", 0))
    assert (pos.line, pos.column, pos.end_line, pos.end_column) == (2, 3, 2, 7)


def test_locate_key_through_a_merge():
    (doc,) = load_text("base: &b\n  image: x\nc:\n  <<: *b\n  name: y\n").documents
    pos = locate(doc.root, ("c", "image"))
    assert (pos.line, pos.column) == (2, 3)


def test_list_items_are_objects_with_their_real_positions():
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec: {containers: []}\n"
        "- not-an-object: true\n"
    )
    (doc,) = load_text(text).documents
    objs = list(objects(doc))
    assert [(o.kind, o.name, o.prefix) for o in objs] == [("Pod", "a", ("items", 0))]
    assert locate(objs[0].node, ("spec",)).line == 7


def test_non_kubernetes_documents_are_skipped_silently():
    assert lint_text("name: CI\non: [push]\njobs: {}\n", name=".github/workflows/ci.yaml") == []
    assert lint_text("apiVersion: 1\nkind: Pod\n") == []


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n---\n", "\ufeff"])
def test_empty_files_lint_cleanly(text):
    assert lint_text(text) == []


def test_json_with_tabs_keeps_columns():
    text = '{\n\t"apiVersion": "v1",\n\t"kind": "Pod",\n\t"spec": {"containers": [{"name": "c", "image": "x:1"}]}\n}\n'
    findings = lint_text(text, name="pod.json", rules=["missing-image-pull-policy"])
    assert [(f.line, f.column) for f in findings] == [(4, 26)]


def test_json_that_only_yaml_accepts_is_a_parse_error():
    findings = lint_text('{"apiVersion": "v1", "kind": "Pod",}\n', name="pod.json")
    assert [(f.rule, f.line, f.column, f.message) for f in findings] == [
        ("parse-error", 1, 36, "invalid JSON: Expecting property name enclosed in double quotes "
         "(JSON allows no comma before a closing bracket)")
    ]


def test_control_characters_are_a_parse_error_at_their_place():
    findings = lint_text("apiVersion: v1\nkind: Pod\nx: a\x07b\n")
    assert [(f.rule, f.line, f.column) for f in findings] == [("parse-error", 3, 5)]


def test_json_comment_hint():
    findings = lint_text('/* header */\n{"apiVersion": "v1", "kind": "Pod"}\n', name="x.json")
    assert [(f.line, f.column, f.message) for f in findings] == [
        (1, 1, "invalid JSON: Expecting value (JSON allows no comments)")
    ]


def test_indentation_hint():
    findings = lint_text("apiVersion: v1\nkind: Pod\nspec:\n  a: 1\n   b: 2\n")
    assert [(f.line, f.column) for f in findings] == [(5, 5)]
    assert findings[0].message.endswith(
        "(a 'key:' where a value was expected: check the indentation, or quote a value that contains ': ')"
    )
