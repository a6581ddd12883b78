"""Drift statistics: PSI and Kolmogorov-Smirnov on counts, centroid distance and MMD on embeddings."""
