"""The evaluator: scores candidate models and gates their promotion."""
