"""Recall layer: FAISS vector index, BM25 lexical index, hybrid fusion, and the serving snapshot."""
