"""Runs last (file order): after every abuse and the load tests, the shared daemon's memory is
bounded and it still serves."""

LIMIT_MIB = 500


def test_memory_stays_bounded(bertd):
    bertd.assert_serving()
    now, peak = bertd.rss_mib(), bertd.peak_rss_mib()
    print(f"\nbertd RSS: {bertd.rss_at_start:.0f} MiB at start, {now:.0f} MiB now, peak {peak:.0f} MiB")
    assert now < LIMIT_MIB, f"RSS {now:.0f} MiB after the tests"
    assert peak < LIMIT_MIB, f"peak RSS {peak:.0f} MiB during the tests"
