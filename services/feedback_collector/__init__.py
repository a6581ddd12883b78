"""The feedback collector: takes feedback from product apps and turns corrections into training data."""
