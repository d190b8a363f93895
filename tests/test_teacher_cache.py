import numpy as np

from harness.core.hash_encoder import HashEncoder
from trainers.teacher_cache import TeacherCache


class CountingEncoder(HashEncoder):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.calls = 0

    def encode(self, texts, *, batch_size=64):
        self.calls += len(texts)
        return super().encode(texts, batch_size=batch_size)


def test_second_run_reuses_embeddings_from_disk(tmp_path):
    texts = [f"sentence {i}" for i in range(300)] + ["sentence 1"]
    first = CountingEncoder(dim=16)
    vectors = TeacherCache(tmp_path, first).embed(texts)
    assert first.calls == 300  # the repeated sentence is encoded once
    second = CountingEncoder(dim=16)
    cache = TeacherCache(tmp_path, second)
    again = cache.embed(texts)
    assert second.calls == 0 and cache.computed == 0 and len(cache) == 300
    np.testing.assert_array_equal(vectors, again)


def test_cache_is_keyed_by_teacher_revision(tmp_path):
    TeacherCache(tmp_path, HashEncoder(dim=16)).embed(["a", "b"])
    other = CountingEncoder(dim=32)  # different revision string
    TeacherCache(tmp_path, other).embed(["a", "b"])
    assert other.calls == 2
    assert len(list(tmp_path.iterdir())) == 2
