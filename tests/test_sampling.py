"""Balanced multi-dataset batching: equal shares per batch, small datasets repeated, resumable."""

from collections import Counter

import pytest

from trainers.sampling import BalancedBatches


def test_every_batch_draws_equally_from_each_dataset():
    sampler = BalancedBatches([1000, 50, 200], batch_size=30, seed=3)
    batches = list(sampler.epoch(0))
    assert len(batches) == -(-1250 // 30)
    for batch in batches:
        assert Counter(d for d, _ in batch) == {0: 10, 1: 10, 2: 10}


def test_small_datasets_are_repeated_and_large_ones_not_exhausted_early():
    sampler = BalancedBatches([1000, 50], batch_size=20, seed=0)
    rows = [(d, r) for batch in sampler.epoch(0) for d, r in batch]
    small = Counter(r for d, r in rows if d == 1)
    assert set(small) == set(range(50))  # every row of the small set is used...
    assert min(small.values()) >= 10  # ...repeatedly: 53 batches x 10 rows = 530 draws from 50 rows
    large = [r for d, r in rows if d == 0]
    assert len(set(large)) == len(large)  # the large set is never repeated within an epoch


def test_uneven_batch_size_rotates_the_remainder():
    sampler = BalancedBatches([100, 100, 100], batch_size=32, seed=0)
    totals = Counter(d for batch in sampler.epoch(0) for d, _ in batch)
    assert max(totals.values()) - min(totals.values()) <= 1 * len(sampler)
    for batch in sampler.epoch(0):
        counts = Counter(d for d, _ in batch)
        assert max(counts.values()) - min(counts.values()) <= 1


def test_resume_reproduces_the_remaining_batches():
    sampler = BalancedBatches([300, 40, 90], batch_size=12, seed=7)
    full = list(sampler.epoch(2))
    assert list(sampler.epoch(2, start=11)) == full[11:]
    assert list(sampler.epoch(3)) != full  # a new epoch reshuffles


def test_unbalanced_mode_follows_dataset_sizes():
    sampler = BalancedBatches([900, 100], batch_size=100, seed=0, balanced=False)
    rows = [d for batch in sampler.epoch(0) for d, _ in batch]
    assert Counter(rows) == {0: 900, 1: 100}


def test_more_datasets_than_batch_rows_rotate_over_consecutive_batches():
    sampler = BalancedBatches([50, 50, 50, 50, 50], batch_size=2, seed=0)
    batches = list(sampler.epoch(0))
    assert all(len({d for d, _ in batch}) == 2 for batch in batches)  # two datasets per batch
    for start in range(0, len(batches) - 5, 5):  # every 5 batches (10 rows) visit each dataset twice
        assert Counter(d for batch in batches[start:start + 5] for d, _ in batch) == {d: 2 for d in range(5)}
    with pytest.raises(ValueError, match="at least 1"):
        BalancedBatches([5], batch_size=0)


def test_real_parallel_sources_are_separate_datasets(tiny_root):
    from harness.core.parallel import load_parallel

    data = load_parallel(tiny_root, ["de", "fr"], max_pairs=50, dev_pairs=10)
    sizes = data.describe()
    assert set(sizes) == {"big/en-de", "small/en-de", "big/en-fr", "small/en-fr"}
    # 10 dev pairs come round-robin (5 per source); the cap of 50 is shared, the small source gives what it has
    assert sizes["small/en-de"] <= 15 and sizes["big/en-de"] + sizes["small/en-de"] == 50
    assert {len(v) for v in data.dev.values()} == {10}
    dev = set(data.dev["de"])
    assert not dev & {p for d in data.train if d.lang == "de" for p in d.pairs}  # dev is held out


def test_the_english_the_cap_leaves_out_is_spare_and_never_trained_on_or_dev(tiny_root):
    from harness.core.parallel import load_parallel

    capped = load_parallel(tiny_root, ["de", "fr"], max_pairs=20, dev_pairs=10)
    everything = load_parallel(tiny_root, ["de", "fr"], max_pairs=None, dev_pairs=10)
    used = {p[0] for d in capped.train for p in d.pairs} | {p[0] for pairs in capped.dev.values() for p in pairs}
    spare = capped.spare_english
    assert spare and len(spare) == len(set(spare)) and not set(spare) & used
    # with no cap every pair is trained on or dev, so nothing is left over; capped, nothing English is lost
    assert everything.spare_english == []
    every = {p[0] for d in everything.train for p in d.pairs} | {p[0] for v in everything.dev.values() for p in v}
    assert set(spare) | used == every
    assert load_parallel(tiny_root, ["de", "fr"], max_pairs=20, dev_pairs=10).spare_english == spare  # seeded
