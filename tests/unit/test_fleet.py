"""gridcloud/engine/fleet.py on its own: the order of a facility's stacks, what a failure
skips, what runs side by side. The work is a stand-in that records when it ran; the
commands over the fake Pulumi CLI are tests/engine/test_shard_fleet.py."""

from __future__ import annotations

import threading
import time

import pytest

from gridcloud.engine import fleet
from gridcloud.errors import EngineError, InputError

HOME = fleet.Step("home", "atlas")
EW4 = fleet.Step("ew4", "atlas-ew4")
UE1 = fleet.Step("ue1", "atlas-ue1")
ALL = [HOME, EW4, UE1]


class Recorder:
    """Work that takes ``seconds``, fails on ``failing``, and records start and end."""

    def __init__(self, failing: tuple[fleet.Step, ...] = (), seconds: float = 0.0) -> None:
        self.failing = failing
        self.seconds = seconds
        self.spans: dict[str, tuple[float, float]] = {}
        self.told: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, step: fleet.Step) -> str:
        start = time.monotonic()
        time.sleep(self.seconds)
        with self.lock:
            self.spans[step.shard] = (start, time.monotonic())
        if step in self.failing:
            raise EngineError(f"{step.stack} failed")
        return f"{step.stack} done"

    def on_done(self, outcome: fleet.Outcome[str]) -> None:
        self.told.append(outcome.step.shard)


def test_up_goes_home_first_then_the_shards_together() -> None:
    work = Recorder(seconds=0.3)
    outcomes = fleet.run_all("up", ALL, work, parallel=True, on_done=work.on_done)
    assert [o.value for o in outcomes] == ["atlas done", "atlas-ew4 done", "atlas-ue1 done"]
    assert work.told[0] == "home"
    assert work.spans["home"][1] <= min(work.spans["ew4"][0], work.spans["ue1"][0])
    assert work.spans["ew4"][0] < work.spans["ue1"][1]
    assert work.spans["ue1"][0] < work.spans["ew4"][1]


def test_destroy_takes_home_down_last() -> None:
    work = Recorder()
    fleet.run_all("destroy", ALL, work, parallel=False, on_done=work.on_done)
    assert work.told == ["ew4", "ue1", "home"]


def test_without_parallel_one_after_another() -> None:
    work = Recorder(seconds=0.05)
    fleet.run_all("preview", ALL, work, parallel=False, on_done=work.on_done)
    assert work.spans["home"][1] <= work.spans["ew4"][0]
    assert work.spans["ew4"][1] <= work.spans["ue1"][0]


def test_a_failed_shard_does_not_stop_the_others() -> None:
    work = Recorder(failing=(EW4,))
    outcomes = fleet.run_all("up", ALL, work, parallel=True, on_done=work.on_done)
    assert [(o.step.shard, o.ok) for o in outcomes] == [
        ("home", True),
        ("ew4", False),
        ("ue1", True),
    ]
    with pytest.raises(EngineError, match="up failed on 1 of 3 stacks: atlas-ew4$"):
        fleet.raise_failed("up", outcomes)


def test_a_failed_home_skips_the_shards_on_up() -> None:
    work = Recorder(failing=(HOME,))
    outcomes = fleet.run_all("up", ALL, work, parallel=True, on_done=work.on_done)
    assert set(work.spans) == {"home"}
    assert [o.skipped is not None for o in outcomes] == [False, True, True]
    assert "budget's enforcer" in str(outcomes[1].skipped)
    assert sorted(work.told) == ["ew4", "home", "ue1"]  # every stack reported
    with pytest.raises(EngineError, match="skipped atlas-ew4, atlas-ue1"):
        fleet.raise_failed("up", outcomes)


def test_a_shard_left_keeps_home_on_destroy() -> None:
    work = Recorder(failing=(UE1,))
    outcomes = fleet.run_all("destroy", ALL, work, parallel=True, on_done=work.on_done)
    assert set(work.spans) == {"ew4", "ue1"}
    assert "shard(s) ue1 are still there" in str(outcomes[-1].skipped)
    # a declined shard (not finished) keeps it too
    declined = Recorder()
    outcomes = fleet.run_all(
        "destroy",
        ALL,
        declined,
        parallel=False,
        on_done=declined.on_done,
        finished=lambda value: value != "atlas-ew4 done",
    )
    assert "home" not in declined.spans
    assert outcomes[-1].skipped is not None


def test_preview_and_status_skip_nothing() -> None:
    for operation in ("preview", "status"):
        work = Recorder(failing=(HOME,))
        outcomes = fleet.run_all(operation, ALL, work, parallel=True, on_done=work.on_done)  # type: ignore[arg-type]
        assert set(work.spans) == {"home", "ew4", "ue1"}
        assert [o.ok for o in outcomes] == [False, True, True]


def test_one_stack_keeps_its_own_error() -> None:
    def refuse(_step: fleet.Step) -> str:
        raise InputError("no stack atlas-ew4")

    with pytest.raises(InputError, match="no stack atlas-ew4"):
        fleet.run_all("destroy", [EW4], refuse, parallel=True, on_done=lambda _o: None)


def test_stacks_side_by_side_show_plain_lines_named_by_stack(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gridcloud.engine.progress import PlainLines, Tracker, renderer_for

    renderer = renderer_for(Tracker(total=3), "up atlas-ew4", json_output=False, shared=True)
    assert isinstance(renderer, PlainLines)
    record = {"event": "resource-start", "op": "create", "name": "spot-pool", "type": "NodePool"}
    renderer.record({**record, "elapsed": 1.0, "stack": "atlas-ew4"})
    line = capsys.readouterr().err
    assert line.startswith("[up atlas-ew4] ")
    assert "create   spot-pool (NodePool)" in line
