"""Search: hybrid recall (FAISS + BM25), filters and facets, ranking with explanations, live index updates.

Import what you need from its modules (``recsys.search.engine`` and the rest); this package re-exports nothing, so
importing one part never loads the others.
"""
