"""Broken specs are reported by file, place and problem, never as a traceback; the CLI answers
as documented."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from configurator.domain.loader import check_specs, load_specs

FIXTURES = Path(__file__).parent / "fixtures" / "specs"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "specs"
    target.mkdir()
    for f in FIXTURES.iterdir():
        (target / f.name).write_text(f.read_text())
    return target


def _break(folder: Path, old: str, new: str) -> list[str]:
    path = folder / "jacket.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return check_specs(folder)


@pytest.mark.parametrize("old,new,expected", [
    ("forbid = \"fabric == 'linen' and lapel == 'peak'\"",
     "forbid = \"fabric == 'linen' and lapell == 'peak'\"",
     "unknown option or measurement 'lapell'"),
    ("require = \"sleeve - elbow >= 12\"", "require = \"sleeve - elbow >= \"", "bad expression"),
    ("require = \"sleeve - elbow >= 12\"", "require = \"sleeve * elbow >= 12\"", "not linear"),
    ("require = \"sleeve - elbow >= 12\"", "require = \"sleeve > 60 or elbow < 30\"",
     "choice between measurement conditions"),
    ("min = 70\nmax = 160", "min = 170\nmax = 160", "min 170 is above max 160"),
    ("when = \"not fabric.stretch\"", "when = \"not fabric.strech\"", "has attribute 'strech'"),
    ("default = \"notch\"", "default = \"wide\"", "'wide' is not one of its choices"),
    ("station = \"cutting\"", "station = \"laser\"", "unknown station 'laser'"),
    ("unit_cost = \"20.00\"", "unit_cost = \"twenty\"", "unit_cost"),
    ("[[rules]]\nid = \"linen-no-peak\"", "[[rules]]\nid = \"no-notch\"\nmessage = \"x\"\n"
     "forbid = \"lapel == 'notch'\"\n[[rules]]\nid = \"no-peak\"\nmessage = \"y\"\n"
     "forbid = \"lapel == 'peak'\"\n[[rules]]\nid = \"linen-no-peak\"", "no valid design exists"),
])
def test_broken_spec_names_file_place_and_problem(tmp_path, old, new, expected):
    problems = _break(_copy(tmp_path), old, new)
    assert problems, "the broken spec was accepted"
    assert any("jacket.toml" in p and expected in p for p in problems), problems


def test_a_product_with_no_valid_design_is_refused(tmp_path):
    problems = _break(_copy(tmp_path), "require = \"sleeve - elbow >= 12\"",
                      "require = \"sleeve - elbow >= 60\"")
    assert any("can never be satisfied" in p or "no valid design" in p for p in problems), problems


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    folder = _copy(tmp_path)
    (folder / "jacket.toml").write_text("[product\nid = 1")
    assert any("jacket.toml" in p and "not valid TOML" in p for p in check_specs(folder))


def test_shipped_specs_are_valid_and_big_enough():
    catalog = load_specs(Path(__file__).parent.parent / "specs")
    assert set(catalog.products) == {"suit", "shirt", "washing-machine"}
    suit = catalog.products["suit"]
    assert len(suit.option("fabric").choices) >= 25
    assert len(suit.measurements) >= 12
    for spec in catalog.products.values():
        assert len(spec.rules) >= 10
        assert spec.version and len(spec.version) == 16


def _cli(*args, env_dir: Path | None = None) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ)
    if env_dir is not None:
        env["CONFIGURATOR_SPECS_DIR"] = str(env_dir)
    return subprocess.run([sys.executable, "-m", "configurator.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_cli_lists_and_checks_specs(tmp_path):
    listed = _cli("specs", "list", env_dir=FIXTURES)
    assert listed.returncode == 0 and listed.stdout.split() == ["jacket"]
    broken = _copy(tmp_path)
    (broken / "jacket.toml").write_text((broken / "jacket.toml").read_text().replace(
        "min = 70\nmax = 160", "min = 170\nmax = 160"))
    checked = _cli("specs", "check", env_dir=broken)
    assert checked.returncode == 1
    assert "jacket.toml: measurements[0] (id 'chest'): min 170 is above max 160" in checked.stdout
    assert "Traceback" not in checked.stdout + checked.stderr


def test_cli_validate_and_propagate_answer_json(tmp_path):
    design = tmp_path / "design.json"
    design.write_text(json.dumps({
        "options": {"fabric": "linen", "lapel": "peak", "pieces": "two"},
        "measurements": {"chest": 100, "waist": 98, "elbow": 35, "sleeve": 60}}))
    out = _cli("validate", "jacket", str(design), env_dir=FIXTURES)
    assert out.returncode == 1
    answer = json.loads(out.stdout)
    assert answer["valid"] is False
    rules = {v["rule"]: v for v in answer["violations"]}
    assert rules["linen-no-peak"]["fields"] == ["options.fabric", "options.lapel"]
    assert set(rules["ease"]["fields"]) == {
        "options.fabric", "measurements.chest", "measurements.waist"}
    design.write_text(json.dumps({"options": {"fabric": "linen", "lapel": "notch"},
                                  "measurements": {"chest": 100, "waist": 98}}))
    out = _cli("propagate", "jacket", str(design), env_dir=FIXTURES)
    assert out.returncode == 0
    answer = json.loads(out.stdout)
    assert answer["options"]["fabric"]["jersey"] == {"available": True, "reasons": []}
    assert answer["options"]["fabric"]["wool"]["reasons"][0]["rule"] == "ease"
    assert answer["measurements"]["waist"] == {"min": 55, "max": 96}
    assert answer["price"]["currency"] == "EUR"


def test_validate_catches_inches_and_swapped_fields():
    from configurator.domain.validation import validate

    suit = load_specs(Path(__file__).parent.parent / "specs").products["suit"]
    inches = validate(suit, {"measurements": {"chest": 40}})
    chest = [v for v in inches.violations if v.fields == ("measurements.chest",)]
    assert chest and chest[0].rule == "range" and "inches" in chest[0].message
    typical = {m.id: float(m.typical) for m in suit.measurements}
    swapped = dict(typical, inseam=typical["outseam"], outseam=typical["inseam"])
    violations = validate(suit, {"measurements": swapped}).violations
    assert any("measurements.inseam" in v.fields and "measurements.outseam" in v.fields
               for v in violations)
