//! A latency histogram with fixed buckets and atomic counts: observing is a few relaxed atomic
//! adds, no lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds: 10 µs to 10 s, roughly ×2.5 apart. The paywall's
/// decision sits in the first few, a proxied request in the middle, a slow backend at the end.
pub(crate) const BOUNDS: [f64; 19] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Bucket bounds in nanoseconds, for the comparison on the hot path.
const BOUNDS_NS: [u64; 19] = [
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// Counts of observations per bucket (not cumulative; the encoder sums), their sum and count.
#[derive(Debug, Default)]
pub(crate) struct Histogram {
    /// One per bound, then `+Inf`.
    buckets: [AtomicU64; 20],
    sum_ns: AtomicU64,
    count: AtomicU64,
}

/// What a histogram holds at one moment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistogramSnapshot {
    /// Cumulative counts per bound of [`BOUNDS`], then `+Inf` (= `count`).
    pub(crate) cumulative: [u64; 20],
    /// Sum of the observations in seconds.
    pub(crate) sum_secs: f64,
    /// Number of observations.
    pub(crate) count: u64,
}

impl Histogram {
    /// Records one observation.
    pub(crate) fn observe(&self, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NS.partition_point(|&bound| bound < ns);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts now. Observations racing with the read may show in the buckets and not yet
    /// in the count (or the reverse); the encoder reports the buckets' total as the count so
    /// `+Inf` always equals `_count`.
    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = [0u64; 20];
        let mut running = 0u64;
        for (slot, bucket) in cumulative.iter_mut().zip(&self.buckets) {
            running += bucket.load(Ordering::Relaxed);
            *slot = running;
        }
        HistogramSnapshot {
            cumulative,
            sum_secs: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
            count: running,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_whose_bound_holds_them() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(10)); // exactly on the first bound: le="1e-5"
        h.observe(Duration::from_micros(11));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(60)); // beyond the last bound: +Inf only
        let s = h.snapshot();
        assert_eq!(s.cumulative[0], 1);
        assert_eq!(s.cumulative[1], 2);
        assert_eq!(s.cumulative[7], 2, "2.5 ms bound excludes 3 ms");
        assert_eq!(s.cumulative[8], 3, "5 ms bound holds 3 ms");
        assert_eq!(s.cumulative[18], 3);
        assert_eq!(s.cumulative[19], 4);
        assert_eq!(s.count, 4);
        assert!((s.sum_secs - 60.003_021).abs() < 1e-9, "{}", s.sum_secs);
    }

    #[test]
    fn bounds_in_seconds_and_nanoseconds_agree() {
        for (secs, ns) in BOUNDS.iter().zip(BOUNDS_NS) {
            assert_eq!((secs * 1e9).round() as u64, ns);
        }
    }
}
