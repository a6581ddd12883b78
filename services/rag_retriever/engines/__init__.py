"""The vector stores the chunk index runs on, behind one small protocol: Qdrant Edge in-process, or qdrant-client."""
