"""Query understanding: colour, gender, type and price read from English and Chinese queries (lexicon as data).

Below search and ranking: the search pipeline reads it against the live catalog's facet values, the ranker's
``query_match`` features read it against item text."""
