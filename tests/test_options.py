"""Options as data (recsys/options.py): flags, values by name, bounds and subsets generated from field metadata."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields

import pytest

from recsys import options
from recsys.options import bound_problems, option


@dataclass(frozen=True)
class Knobs:
    steps: int = option(3, help="how many", minimum=1, maximum=9, group="main")
    rate: float = option(0.5, help="how fast", minimum=0)
    loud: bool = option(False, help="say more", flag="--verbose-mode")
    learn: bool = option(True, help="learn it", off_flag="--frozen")
    mode: str = option("a", choices=("a", "b"))
    kinds: tuple[str, ...] = option(("x",), choices=("x", "y", "z"), flag="--kind")
    path: str | None = option(None, metavar="FILE")
    plain: int = 7  # no metadata: still a flag

    def __post_init__(self) -> None:
        if problems := bound_problems(self):
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class Smaller:
    steps: int = 1
    speed: float = 0.0
    mode: str = "z"
    untouched: int = 42


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    options.add_arguments(parser, Knobs)
    return parser.parse_args(argv)


def test_no_flags_give_the_defaults_and_flags_set_fields():
    assert options.from_arguments(Knobs, _parse([])) == Knobs()
    got = options.from_arguments(
        Knobs,
        _parse(
            [
                "--steps",
                "4",
                "--rate",
                "0.1",
                "--verbose-mode",
                "--frozen",
                "--mode",
                "b",
                "--kind",
                "y",
                "--kind",
                "x",
                "--kind",
                "y",
                "--path",
                "p.csv",
                "--plain",
                "8",
            ]
        ),
    )
    assert got == Knobs(steps=4, rate=0.1, loud=True, learn=False, mode="b", kinds=("y", "x"), path="p.csv", plain=8)
    assert options.from_arguments(Knobs, _parse(["--no-learn"])).learn is False
    assert options.from_arguments(Knobs, _parse(["--no-verbose-mode"])).loud is False


def test_argparse_refuses_what_the_metadata_excludes(capsys):
    for argv in (["--mode", "c"], ["--kind", "w"], ["--steps", "x"]):
        with pytest.raises(SystemExit):
            _parse(argv)
    assert "invalid choice" in capsys.readouterr().err


def test_bounds_are_checked_by_the_dataclass_with_reasons():
    with pytest.raises(ValueError, match=r"steps must be 1-9 \(got 12\); rate must be at least 0"):
        options.from_arguments(Knobs, _parse(["--steps", "12", "--rate", "-1"]))


def test_every_field_becomes_a_flag_with_its_help():
    parser = argparse.ArgumentParser()
    options.add_arguments(parser, Knobs)
    flags = {a.dest: a for a in parser._actions if a.dest != "help"}
    assert set(flags) == {f.name for f in fields(Knobs)}
    assert "how many (default: 3)" == flags["steps"].help and flags["path"].metavar == "FILE"


def test_from_values_coerces_form_values_by_name():
    got = options.from_values(Knobs, {"steps": 5.0, "rate": "0.25", "loud": 1, "kinds": ["z", "z"], "path": None})
    assert got == Knobs(steps=5, rate=0.25, loud=True, kinds=("z",), path=None)
    with pytest.raises(ValueError, match="steps must be a whole number"):
        options.from_values(Knobs, {"steps": 2.5})
    with pytest.raises(ValueError, match="steps needs a value"):
        options.from_values(Knobs, {"steps": None})  # a cleared number box
    with pytest.raises(ValueError, match="unknown option"):
        options.from_values(Knobs, {"nope": 1})


def test_subset_takes_same_named_fields_and_renames():
    got = options.subset(Smaller, Knobs(steps=4, rate=0.2, mode="b"), speed="rate")
    assert got == Smaller(steps=4, speed=0.2, mode="b", untouched=42)
    with pytest.raises(TypeError, match="no such field"):
        options.subset(Smaller, Knobs(), speed="missing")


def test_specs_resolve_types_and_refuse_unsupported_ones():
    kinds = {s.name: (s.kind, s.optional) for s in options.specs(Knobs)}
    assert kinds["kinds"] == (tuple, False) and kinds["path"] == (str, True) and kinds["learn"] == (bool, False)

    @dataclass
    class Bad:
        mapping: dict = None  # type: ignore[assignment]

    with pytest.raises(TypeError, match="not supported"):
        options.specs(Bad)


def test_the_run_options_build_both_trainer_configs_from_their_fields():
    from recsys.training.head_fit import HeadTrainingConfig
    from recsys.training.run_options import EncoderRunOptions
    from recsys.training.tower_trainer import TowerTrainingConfig

    run = EncoderRunOptions(epochs=3, lr=1e-3, patience=0, hard_negatives=2, uniform_weight=0.3, seed=5)
    head = run.head_config()
    assert (head.epochs, head.lr, head.patience, head.hard_negatives, head.uniform_weight, head.seed) == (
        3,
        1e-3,
        0,
        2,
        0.3,
        5,
    )
    assert head.weight_decay == HeadTrainingConfig().weight_decay  # not an option: the trainer's default
    towers = EncoderRunOptions(unfreeze_text_layers=2, tower_lr=1e-5, lr=4e-4, epochs=1, batch_size=64)
    tower = towers.tower_config()
    assert isinstance(tower, TowerTrainingConfig)
    assert (tower.head_lr, tower.tower_lr, tower.unfreeze_text_layers) == (4e-4, 1e-5, 2)
    # every trainer field that the options also have is taken from the options
    shared = {f.name for f in fields(EncoderRunOptions)}
    for source, config in ((run, head), (towers, tower)):
        for f in fields(config):
            if f.name in shared:
                assert getattr(config, f.name) == getattr(source, f.name), f.name
