"""`llmops demo`: the platform's whole life cycle on the embedded defaults, told as a story.

It starts `llmops up` in a fresh folder and drives it as product apps and operators would: documents
in, a RAG answer with citations, corrections, a sealed dataset, a fine-tune, its evaluation, a canary
the monitor promotes, then a drift alert and an enforced budget. `run.py` orders the chapters; each
module here tells one part.
"""
