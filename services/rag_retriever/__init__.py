"""The RAG retriever: indexes documents into Qdrant and answers retrieval requests."""
