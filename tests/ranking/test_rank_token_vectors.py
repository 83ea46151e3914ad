import numpy as np

from recsys.ranking.features.inputs import TokenVectors
from recsys.ranking.token_vectors import CachedTokenEncoder


class CountingEncoder:
    model_name = "fake-tokens"

    def __init__(self):
        self.seen = []

    def encode_tokens(self, texts):
        self.seen += list(texts)
        return [
            TokenVectors(np.full((len(t.split()), 3), 0.5, np.float16), np.arange(len(t.split()), dtype=np.int32))
            for t in texts
        ]


def test_cached_token_encoder_encodes_each_text_once_and_persists(tmp_path):
    inner = CountingEncoder()
    cache = CachedTokenEncoder(inner, tmp_path)
    first = cache.encode_tokens(["red shoe", "lamp", "red shoe", ""])
    assert inner.seen == ["red shoe", "lamp", ""]
    assert [len(v.word_ids) for v in first] == [2, 1, 2, 0]
    again = CachedTokenEncoder(CountingEncoder(), tmp_path)  # a new process: everything from disk
    loaded = again.encode_tokens(["lamp", "red shoe", ""])
    assert again.encoder.seen == []
    np.testing.assert_array_equal(loaded[1].word_ids, [0, 1])
    np.testing.assert_allclose(loaded[1].vectors, first[0].vectors)
    assert loaded[2].vectors.shape[0] == 0
