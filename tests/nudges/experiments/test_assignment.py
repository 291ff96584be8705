"""Assignment is deterministic per (salt, unit) and follows the weights."""

import secrets

from scipy.stats import chisquare

from nudges.experiments.assignment import assign, unit_hash

ARMS = [("controle", 1), ("easy", 2), ("attractive", 3), ("social", 4)]


def test_the_same_unit_always_gets_the_same_arm():
    units = [unit_hash(secrets.token_urlsafe(16)) for _ in range(200)]
    first = [assign(salt="abc", unit_hash=u, arms=ARMS) for u in units]
    again = [assign(salt="abc", unit_hash=u, arms=ARMS) for u in units]
    assert first == again


def test_another_salt_reshuffles_units():
    units = [unit_hash(f"unit-{i:04d}") for i in range(500)]
    one = [assign(salt="salt-one", unit_hash=u, arms=ARMS) for u in units]
    two = [assign(salt="salt-two", unit_hash=u, arms=ARMS) for u in units]
    # Independent assignments agree on about 30% of units (sum of squared weights / 100).
    assert sum(a == b for a, b in zip(one, two, strict=True)) < 0.45 * len(units)


def test_ten_thousand_units_follow_the_weights():
    """Chi-square goodness of fit of the arm counts against 1:2:3:4."""
    counts = dict.fromkeys([key for key, _weight in ARMS], 0)
    for i in range(10_000):
        counts[assign(salt="weights", unit_hash=unit_hash(f"bezoeker-{i}"), arms=ARMS)] += 1
    total_weight = sum(w for _k, w in ARMS)
    expected = [10_000 * w / total_weight for _k, w in ARMS]
    result = chisquare([counts[k] for k, _w in ARMS], f_exp=expected)
    assert result.pvalue > 0.001, counts
    assert all(counts[k] > 0 for k in counts)


def test_unit_hash_is_keyed(settings):
    plain = unit_hash("bezoeker-1")
    settings.NUDGES_UNIT_HASH_KEY = "another-key"
    assert unit_hash("bezoeker-1") != plain
    assert len(plain) == 64 and "bezoeker" not in plain
