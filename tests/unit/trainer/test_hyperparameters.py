"""Hyperparameters of a training request: defaults, bounds, the comma-separated module list, and the
messages a requester reads when a value is wrong."""

from __future__ import annotations

import pytest

from llmops_common.errors import PermanentError
from services.trainer.hyperparameters import (
    InvalidHyperparametersError,
    LoraHyperparameters,
    parse_hyperparameters,
)


def test_an_empty_request_gets_the_defaults() -> None:
    hp = parse_hyperparameters({})
    assert hp == LoraHyperparameters()
    assert (hp.r, hp.alpha, hp.dropout, hp.learning_rate) == (8, 16, 0.05, 2e-3)
    assert hp.target_modules == ("q_proj", "k_proj", "v_proj", "o_proj")
    assert hp.max_steps is None


def test_values_arrive_as_the_event_carries_them() -> None:
    hp = parse_hyperparameters(
        {"r": 16, "alpha": "32", "learning_rate": 1e-4, "target_modules": " q_proj, v_proj ", "max_steps": 40.0}
    )
    assert (hp.r, hp.alpha, hp.learning_rate, hp.max_steps) == (16, 32, 1e-4, 40)
    assert hp.target_modules == ("q_proj", "v_proj")
    assert hp.peft_target_modules() == ["q_proj", "v_proj"]
    assert parse_hyperparameters({"target_modules": "all-linear"}).peft_target_modules() == "all-linear"


def test_an_unknown_key_and_a_bad_value_are_both_named() -> None:
    with pytest.raises(InvalidHyperparametersError) as caught:
        parse_hyperparameters({"lerning_rate": 1e-3, "learning_rate": 0})
    assert caught.value.message == "unknown hyperparameter 'lerning_rate'; learning_rate must be > 0"
    assert caught.value.detail == ["unknown hyperparameter 'lerning_rate'", "learning_rate must be > 0"]
    assert isinstance(caught.value, PermanentError)
    assert caught.value.code == "invalid_hyperparameters"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"r": 0}, "r must be >= 1"),
        ({"r": 512}, "r must be <= 256"),
        ({"r": 2.5}, "r must be a whole number"),
        ({"r": True}, "r must not be a boolean"),
        ({"dropout": 0.95}, "dropout must be <= 0.9"),
        ({"dropout": "high"}, "dropout must be a number"),
        ({"learning_rate": 2.0}, "learning_rate must be <= 1"),
        ({"learning_rate": "nan"}, "learning_rate must be a finite number"),
        ({"epochs": 0}, "epochs must be > 0"),
        ({"max_steps": 0}, "max_steps must be >= 1"),
        ({"batch_size": 1024}, "batch_size must be <= 512"),
        ({"max_seq_length": 8}, "max_seq_length must be >= 16"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"warmup_ratio": 1}, "warmup_ratio must be < 1"),
        ({"target_modules": ""}, "target_modules must name at least one module"),
        ({"target_modules": "q_proj,v proj"}, "target_modules has an invalid module name 'v proj'"),
        (
            {"lr_scheduler": "warmup"},
            "lr_scheduler must be one of 'linear', 'cosine', 'cosine_with_restarts', 'polynomial', 'constant', "
            "'constant_with_warmup' or 'inverse_sqrt'",
        ),
    ],
)
def test_each_bad_value_says_why(raw: dict[str, float | int | str | bool], message: str) -> None:
    with pytest.raises(InvalidHyperparametersError) as caught:
        parse_hyperparameters(raw)
    assert caught.value.message == message


def test_every_problem_is_reported_at_once_unknown_keys_first() -> None:
    with pytest.raises(InvalidHyperparametersError) as caught:
        parse_hyperparameters({"batch_size": 0, "rank": 4, "r": 0, "epoch": 2})
    assert caught.value.message == (
        "unknown hyperparameter 'rank'; unknown hyperparameter 'epoch'; r must be >= 1; batch_size must be >= 1"
    )


def test_the_flat_form_is_scalar_and_parses_back_to_the_same_values() -> None:
    hp = parse_hyperparameters({"target_modules": "q_proj,v_proj", "max_steps": 12, "lr_scheduler": "cosine"})
    flat = hp.as_flat_dict()
    assert flat["target_modules"] == "q_proj,v_proj"
    assert flat["max_steps"] == 12
    assert all(isinstance(value, float | int | str | bool) for value in flat.values())
    assert parse_hyperparameters(flat) == hp
    assert "max_steps" not in LoraHyperparameters().as_flat_dict()


def test_hyperparameters_are_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        LoraHyperparameters().r = 4  # type: ignore[misc]
