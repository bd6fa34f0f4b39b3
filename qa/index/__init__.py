"""Index versions on disk: articles and passages (SQLite), vectors (FAISS) and BM25, published atomically."""
