"""The plan format is published as a JSON Schema (redact/plan.schema.json) for other tools and teams: every plan the
tool writes validates against it, and it refuses what the tool's own validator refuses."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from redact.cli import cli
from redact.pipeline import ScanOptions, scan
from redact.types import PlanError, Track, TrackBox, next_track_id, plan_schema, validate_plan_dict

from .media import make_video

jsonschema = pytest.importorskip("jsonschema")
DEMO_PHOTO = Path(__file__).resolve().parents[1] / "samples" / "demo.jpg"


@pytest.fixture(scope="module")
def validator():
    schema = plan_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def photo_plan():
    plan = scan(DEMO_PHOTO, ScanOptions()).plan
    assert {"face", "badge", "text"} <= {t.kind for t in plan.tracks}, "the sample shows all three kinds"
    return plan


def test_plans_the_tool_writes_validate(validator, photo_plan, tmp_path):
    validator.validate(json.loads(photo_plan.to_json()))
    edited = copy.deepcopy(photo_plan)  # as the review page and --keep leave it: a kept track, a manual box
    edited.tracks[0].action = "keep"
    edited.tracks.append(Track(next_track_id(edited.tracks), "face", [TrackBox(0, (1, 2, 30, 40), 1.0, "manual")]))
    edited.tracks.append(Track(next_track_id(edited.tracks), "frame",
                               [TrackBox(0, (0, 0, edited.input.width, edited.input.height), 1.0, "failsafe")]))
    validator.validate(json.loads(edited.to_json()))
    clip = make_video(tmp_path / "clip.mp4", width=64, height=48, frames=3, fps=10, audio=True)
    r = CliRunner().invoke(cli, ["run", str(clip), "--plan-out", str(tmp_path / "p.json"), "--text", "off"])
    assert r.exit_code == 0, r.output
    validator.validate(json.loads((tmp_path / "p.json").read_text()))


@pytest.mark.parametrize("break_it", [
    lambda d: d.update(version=2),
    lambda d: d["input"].pop("sha256"),
    lambda d: d["input"].update(kind="audio"),
    lambda d: d["tracks"][0].update(kind="hand"),
    lambda d: d["tracks"][0].update(action="blur"),
    lambda d: d["tracks"][0]["boxes"][0].update(box=[1, 2, 3]),
    lambda d: d["tracks"][0]["boxes"][0].update(source="guessed"),
    lambda d: d["tracks"][0]["evidence"].pop("confirmed"),
])
def test_the_schema_refuses_what_the_validator_refuses(validator, photo_plan, break_it):
    doc = json.loads(photo_plan.to_json())
    assert doc["tracks"][0].get("evidence") is not None
    break_it(doc)
    with pytest.raises(PlanError):
        validate_plan_dict(doc)
    assert list(validator.iter_errors(doc)), "the schema let a broken plan through"
