"""The demo's cast and the settings its platform runs with: a small retrain policy so that 100
corrections make one quick fine-tune, a monitor that judges the canary every 2 s, detectors that run
every 2 s over the shortest window, and a $1 budget on the premium model that one request spends."""

from __future__ import annotations

import json

from ..auth.dev_key import DEV_TENANT

TENANT = DEV_TENANT
ASSISTANT = "support-assistant"
"""The model that learns from corrections, is evaluated, canaried and promoted, then drifts."""
PREMIUM = "premium-assistant"
"""A costly model under an enforced budget."""
COLLECTION = "help-center"
ARTICLES = 40
CORRECTIONS = 100
ANSWER_TOKENS = 32
BUDGET_USD = 1.0
DRIFT_WINDOW_SECONDS = 60
"""The monitor's current window, its shortest: a reference is traffic at least this old."""


def scenario_settings(base_model: str, base_model_name: str) -> dict[str, str]:
    """The platform's `LLMOPS_` settings by field name."""
    # On the default tiny model, 80 steps at 1e-2 learn the house reply (token F1 about 0.8 on unseen
    # questions) where 3e-3 stays near 0.6.
    hyperparameters = {"max_steps": 80, "learning_rate": 0.01, "batch_size": 8, "dropout": 0.0}
    budget = {"tenant": TENANT, "model_name": PREMIUM, "window": "month", "limit_usd": BUDGET_USD, "enforce": True}
    prices = {PREMIUM: {"input_per_1k": 100.0, "output_per_1k": 100.0}, ASSISTANT: {"input_per_1k": 0.002}}
    return {
        "base_model": base_model,
        "base_model_name": base_model_name,
        "ingest_seal_max_pending_examples": str(CORRECTIONS),
        "ingest_seal_check_seconds": "1",
        "retrain_policies": json.dumps(
            {ASSISTANT: {"tenant": TENANT, "min_new_examples": CORRECTIONS, "hyperparameters": hyperparameters}}
        ),
        "eval_policies": json.dumps({ASSISTANT: {"gate": {"min_examples": 5}, "canary_percent": 50}}),
        "eval_max_new_tokens": str(ANSWER_TOKENS),
        "canary_check_seconds": "2",
        "canary_min_requests": "10",
        # Both arms share one engine on a busy machine: latency noise there is no regression.
        "canary_max_latency_ratio": "3",
        "detection": json.dumps({"interval_seconds": 2, "current_window_seconds": DRIFT_WINDOW_SECONDS}),
        "drift": json.dumps({"min_samples": 10}),
        "embedding_drift": json.dumps({"enabled": False}),
        "cost": json.dumps({"budgets": [budget]}),
        "prices": json.dumps(prices),
    }
