"""psychometrics.load_keys: psych-style keys files and mappings, checked, every problem named."""

from __future__ import annotations

import json

import pytest

import psychometrics as pm
from psychometrics import keys as keys_module
from psychometrics.keys import Keys, KeysError

GOOD = {
    "scales": {"TRU": ["TRU1", "-TRU2", "TRU3"], "SOC": ["SOC1", "SOC2"]},
    "min": 1,
    "max": 5,
    "groups": ["lang", "sector"],
    "id": "respondent",
}
COLUMNS = ["respondent", "lang", "sector", "TRU1", "TRU2", "TRU3", "SOC1", "SOC2"]


def test_mapping_loads_into_frozen_keys():
    keys = pm.load_keys(GOOD, columns=COLUMNS)
    assert isinstance(keys, Keys)
    assert keys.scales == {"TRU": ("TRU1", "-TRU2", "TRU3"), "SOC": ("SOC1", "SOC2")}
    assert (keys.min, keys.max) == (1.0, 5.0)
    assert keys.groups == ("lang", "sector")
    assert keys.id == "respondent"
    assert keys.items == ("TRU1", "TRU2", "TRU3", "SOC1", "SOC2")
    assert keys.source == "<mapping>"
    with pytest.raises(AttributeError):
        keys.min = 0  # frozen


def test_json_and_yaml_files_give_the_same_keys(tmp_path):
    yaml = pytest.importorskip("yaml")
    (tmp_path / "k.json").write_text(json.dumps(GOOD))
    (tmp_path / "k.yaml").write_text(yaml.safe_dump(GOOD))
    a, b = pm.load_keys(tmp_path / "k.json"), pm.load_keys(str(tmp_path / "k.yaml"))
    assert a.scales == b.scales == pm.load_keys(GOOD).scales
    assert "k.json" in a.source


def test_optional_fields_and_extra_fields():
    keys = pm.load_keys({"scales": {"A": ["x"]}, "nfactors": 1, "name": "demo"})
    assert (keys.min, keys.max, keys.groups, keys.id) == (None, None, (), None)


def test_reference_keys_files_load(ref_dir):
    for name in ("bfi", "hs1939", "consortium_dev"):
        keys = pm.load_keys(ref_dir / f"{name}.json")
        assert len(keys.items) == {"bfi": 25, "hs1939": 9, "consortium_dev": 32}[name]
    assert pm.load_keys(ref_dir / "bfi.json").scales["agree"][0] == "-A1"


def _problems(doc, **kw):
    with pytest.raises(KeysError) as info:
        pm.load_keys(doc, **kw)
    return info.value


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"scales": {"TRU": ["TRU1", "-TRU1"]}}, "duplicate-item", ["'TRU'", "'-TRU1'", "more than once"]),
        ({"scales": {"TRU": []}}, "empty-scale", ["'TRU'", "no items"]),
        ({"scales": {"TRU": ["--TRU1"]}}, "bad-item", ["'TRU'", "'--TRU1'"]),
        ({"scales": {"TRU": ["TRU1", 3]}}, "bad-item", ["'TRU'", "3"]),
        ({"scales": {"TRU": "TRU1"}}, "bad-keys", ["'TRU'", "list"]),
        ({"scales": {}}, "bad-keys", ["'scales'"]),
        ({"min": 5, "max": 5}, "bad-range", ["min=5", "max=5", "<"]),
        ({"min": 5, "max": 1}, "bad-range", ["min=5", "max=1"]),
        ({"min": "1"}, "bad-range", ["'min'", "'1'"]),
        ({"max": None}, "bad-range", ["both"]),
        ({"min": True}, "bad-range", ["'min'", "True"]),
        ({"groups": [1]}, "bad-keys", ["'groups'"]),
        ({"id": 7}, "bad-keys", ["'id'", "7"]),
    ],
)
def test_each_rule_is_named(change, code, words):
    err = _problems({**GOOD, **change})
    assert err.code == code
    assert isinstance(err, pm.PsychometricsError)
    for w in words:
        assert w in str(err)


def test_unknown_item_and_column_against_the_data():
    doc = {**GOOD, "scales": {"TRU": ["TRU1", "-TRU9"]}, "groups": ["langue"]}
    err = _problems(doc, columns=COLUMNS)
    assert err.code == "unknown-item"
    assert [c for c, _ in err.problems] == ["unknown-item", "unknown-column"]
    assert "scale 'TRU', item '-TRU9'" in str(err) and "'langue'" in str(err)
    pm.load_keys(doc)  # without columns there is nothing to check items against


def test_all_problems_reported_together_with_the_file_name(tmp_path):
    path = tmp_path / "cles.json"
    path.write_text(json.dumps({"scales": {"A": ["x", "x"], "B": []}, "min": 3, "max": 2}))
    err = _problems(path)
    assert [c for c, _ in err.problems] == ["duplicate-item", "empty-scale", "bad-range"]
    assert str(err).count("cles.json") >= 4
    assert "3 problems" in str(err)


def test_unreadable_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"scales": {"A": ["x",]}}')
    err = _problems(bad)
    assert err.code == "unreadable-keys" and "bad.json" in str(err) and "line 1" in str(err)
    assert _problems(tmp_path / "absent.json").code == "unreadable-keys"
    txt = tmp_path / "keys.txt"
    txt.write_text("{}")
    assert "'.txt'" in str(_problems(txt))
    with pytest.raises(pm.PsychometricsError, match="path or a mapping"):
        pm.load_keys(42)


def test_top_level_shape():
    assert _problems({"scale": {"A": ["x"]}}).code == "bad-keys"
    assert "'scales' field is required" in str(_problems({"scale": {"A": ["x"]}}))


def test_public_api():
    assert "load_keys" in pm.__all__
    assert pm.load_keys is keys_module.load_keys
