"""Text embeddings shared by the services: the model's files found offline, and a sentence-transformers
embedder (all-MiniLM-L6-v2 by default). The retriever indexes with it; the monitor measures prompt drift."""
