"""A fine-tune's hyperparameters: parsed from a training request's flat map, bounded, and flattened back.

The request event carries scalar values only, so lists (the LoRA target modules) travel as
comma-separated text, and the flat form that goes to the model card and MLflow is that same shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from llmops_common.errors import PermanentError

HyperparameterValue = float | int | str | bool

LrScheduler = Literal[
    "linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup", "inverse_sqrt"
]
"""transformers' schedulers that need nothing beyond the step count (no metric, no extra arguments)."""

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class InvalidHyperparametersError(PermanentError):
    """A training request whose hyperparameters are unknown or out of bounds; retrying cannot fix it."""

    code = "invalid_hyperparameters"


class LoraHyperparameters(BaseModel):
    """How a LoRA fine-tune runs. The defaults make a small model learn a few hundred examples."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    r: int = Field(default=8, ge=1, le=256, description="The rank of each LoRA update.")
    alpha: int = Field(default=16, ge=1, le=4096, description="LoRA's scale numerator: updates scale by alpha/r.")
    dropout: float = Field(default=0.05, ge=0.0, le=0.9, description="Dropout on the LoRA input.")
    target_modules: tuple[str, ...] = Field(
        default=("q_proj", "k_proj", "v_proj", "o_proj"),
        min_length=1,
        description="Module names LoRA wraps; comma-separated text in a request. `all-linear` is PEFT's own.",
    )
    # LoRA's B factors start at zero, so an adapter needs a larger step than full fine-tuning's usual
    # 2e-5..2e-4 to change the output within a few dozen steps. On the test model (30 steps, batch 8,
    # rank 8) 2e-3 took the loss from 3.9 to 1.6 where 1e-3 only reached 2.5, still falling smoothly;
    # the platform's base models are small, and a large model's request should ask for less.
    learning_rate: float = Field(default=2e-3, gt=0.0, le=1.0)
    epochs: float = Field(default=3.0, gt=0.0, le=1000.0, description="Passes over the data, unless max_steps.")
    max_steps: int | None = Field(default=None, ge=1, le=10_000_000, description="Optimizer steps; beats epochs.")
    batch_size: int = Field(default=8, ge=1, le=512, description="Examples per optimizer step, over all devices.")
    gradient_accumulation_steps: int = Field(default=1, ge=1, le=1024)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    max_seq_length: int = Field(default=512, ge=16, le=8192, description="Tokens per example, prompt included.")
    warmup_ratio: float = Field(default=0.0, ge=0.0, lt=1.0, description="Share of the steps that warm up.")
    weight_decay: float = Field(default=0.0, ge=0.0, le=1.0)
    lr_scheduler: LrScheduler = "linear"

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        # Python counts True as 1, so pydantic would take `r=true` as rank 1; no field here is a flag.
        if isinstance(value, bool):
            raise ValueError("must not be a boolean")
        return value

    @field_validator("target_modules", mode="before")
    @classmethod
    def _split_module_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("target_modules")
    @classmethod
    def _valid_module_names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if not _MODULE_NAME.match(name):
                raise ValueError(f"has an invalid module name {name!r}")
        return names

    def as_flat_dict(self) -> dict[str, HyperparameterValue]:
        """Every value as a scalar (target modules comma-joined, an unset max_steps left out): what the model
        card, MLflow's params and the completed event carry, and what `parse_hyperparameters` reads back."""
        flat: dict[str, HyperparameterValue] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            flat[name] = ",".join(value) if isinstance(value, tuple) else value
        return flat

    def peft_target_modules(self) -> list[str] | str:
        """The target modules as PEFT takes them (its `all-linear` shorthand is a string, not a name)."""
        return "all-linear" if self.target_modules == ("all-linear",) else list(self.target_modules)


def parse_hyperparameters(raw: Mapping[str, HyperparameterValue]) -> LoraHyperparameters:
    """The hyperparameters of a request, defaults filled in.

    Raises `InvalidHyperparametersError` naming every unknown key and every bad value at once, so one
    corrected request is enough.
    """
    try:
        return LoraHyperparameters.model_validate(dict(raw))
    except ValidationError as error:
        problems = _describe(error.errors())
        raise InvalidHyperparametersError("; ".join(problems), detail=problems) from None


def _describe(errors: list[ErrorDetails]) -> list[str]:
    unknown = [f"unknown hyperparameter {e['loc'][0]!r}" for e in errors if e["type"] == "extra_forbidden"]
    bad = [f"{e['loc'][0]} {_reason(e)}" for e in errors if e["type"] != "extra_forbidden"]
    return unknown + bad


def _reason(error: ErrorDetails) -> str:
    ctx = error.get("ctx", {})
    match error["type"]:
        case "greater_than":
            return f"must be > {_number(ctx['gt'])}"
        case "greater_than_equal":
            return f"must be >= {_number(ctx['ge'])}"
        case "less_than":
            return f"must be < {_number(ctx['lt'])}"
        case "less_than_equal":
            return f"must be <= {_number(ctx['le'])}"
        case "int_parsing" | "int_from_float" | "int_type":
            return "must be a whole number"
        case "float_parsing" | "float_type":
            return "must be a number"
        case "finite_number":
            return "must be a finite number"
        case "literal_error":
            return f"must be one of {ctx['expected']}"
        case "too_short":
            return "must name at least one module"
        case "value_error":
            return str(ctx["error"])
        case _:
            return str(error["msg"]).lower()


def _number(bound: float) -> str:
    """A bound as people write it: 0 and 1, not 0.0 and 1.0 (whole numbers in full, never in e-notation)."""
    return str(bound) if isinstance(bound, int) else f"{bound:g}"
