//! Geometry builtins: box overlap, distances between point sequences (trajectories, curves,
//! handwriting, time series of 2-D points) and relative error.
//!
//! All functions are total (no panics on any input). Non-finite coordinates are reported as
//! NaN rather than given a half-meaningful value; each function documents how.

/// Multiplies `x` by 2^`k` exactly (unless the result over- or underflows), in steps that are
/// each a representable power of two.
fn mul_pow2(mut x: f64, mut k: i32) -> f64 {
    const STEP: i32 = 1000;
    while k > STEP {
        x *= f64::from_bits(((STEP + 1023) as u64) << 52);
        k -= STEP;
    }
    while k < -STEP {
        x *= f64::from_bits(((1023 - STEP) as u64) << 52);
        k += STEP;
    }
    x * f64::from_bits(((k + 1023) as u64) << 52)
}

/// The binary exponent of a finite non-zero `x`: `e` with 2^e ≤ |x| < 2^(e+1).
fn exponent(x: f64) -> i32 {
    let bits = x.abs().to_bits();
    let biased = (bits >> 52) as i32;
    if biased == 0 {
        // Subnormal: the exponent is given by the highest set bit of the mantissa.
        63 - bits.leading_zeros() as i32 - 1074
    } else {
        biased - 1023
    }
}

/// The power-of-two exponent that brings the largest magnitude of `values` into [1, 2);
/// 0 if all are zero.
fn normalizing_shift(values: [f64; 4]) -> i32 {
    let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if largest == 0.0 {
        0
    } else {
        -exponent(largest)
    }
}

/// Area of the box `(x1, y1, x2, y2)`; 0.0 unless `x2 > x1` and `y2 > y1`.
fn area(x1: f64, y1: f64, x2: f64, y2: f64) -> f64 {
    let width = x2 - x1;
    let height = y2 - y1;
    if width > 0.0 && height > 0.0 {
        width * height
    } else {
        0.0
    }
}

/// Intersection over union of two axis-aligned boxes, each given as `[x1, y1, x2, y2]` (a
/// corner with the smaller coordinates, then the opposite corner, as torchvision's `box_iou`).
///
/// A box's area is `(x2 − x1)·(y2 − y1)` if `x2 > x1` and `y2 > y1`, and 0 otherwise: a
/// degenerate box (a point or a segment) or an inverted one (`x2 < x1` or `y2 < y1`) has no
/// area and intersects nothing (torchvision would give inverted boxes a negative area). The
/// intersection is the box `[max x1, max y1, min x2, min y2]` under the same rule, and the
/// result is `intersection / (area(a) + area(b) − intersection)`, or 0.0 when that union is 0
/// (both boxes empty). Boxes that only touch along an edge have IoU 0.0.
///
/// The result is in [0, 1], symmetric, and 1.0 for two equal non-empty boxes:
/// `iou([0, 0, 2, 2], [1, 1, 3, 3])` is 1/7. Each axis is rescaled by a power of two before
/// computing (exact, and IoU does not change under scaling), so huge coordinates (1e300) do not
/// overflow and tiny boxes (1e-200 wide) do not underflow to zero area; for ordinary
/// coordinates the result is bit-for-bit the plain formula's.
///
/// If any coordinate is NaN or infinite, the result is NaN.
///
/// Time: O(1).
pub fn iou(a: [f64; 4], b: [f64; 4]) -> f64 {
    if a.iter().chain(b.iter()).any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    let sx = normalizing_shift([a[0], a[2], b[0], b[2]]);
    let sy = normalizing_shift([a[1], a[3], b[1], b[3]]);
    let scale = |v: [f64; 4]| {
        [
            mul_pow2(v[0], sx),
            mul_pow2(v[1], sy),
            mul_pow2(v[2], sx),
            mul_pow2(v[3], sy),
        ]
    };
    let (a, b) = (scale(a), scale(b));
    let area_a = area(a[0], a[1], a[2], a[3]);
    let area_b = area(b[0], b[1], b[2], b[3]);
    let inter = area(
        a[0].max(b[0]),
        a[1].max(b[1]),
        a[2].min(b[2]),
        a[3].min(b[3]),
    );
    let union = area_a + area_b - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// Euclidean distance between two points, without intermediate overflow.
fn point_distance(p: (f64, f64), q: (f64, f64)) -> f64 {
    (p.0 - q.0).hypot(p.1 - q.1)
}

fn has_non_finite(points: &[(f64, f64)]) -> bool {
    points.iter().any(|p| !(p.0.is_finite() && p.1.is_finite()))
}

/// Runs the classic O(n·m) dynamic programme over the cost matrix row by row, keeping one row,
/// and returns the value of the last cell. `combine(d, best)` gives a cell from its point
/// distance `d` and the best of its (up to three) predecessors; the first cell gets
/// `combine(d, None)`.
fn sweep(
    a: &[(f64, f64)],
    b: &[(f64, f64)],
    combine: impl Fn(f64, Option<f64>) -> f64,
) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    if has_non_finite(a) || has_non_finite(b) {
        return Some(f64::NAN);
    }
    // Both measures are symmetric (a path and its transpose visit the same pairs in the same
    // order), so the shorter sequence can index the kept row.
    let (rows, cols) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut row: Vec<f64> = Vec::with_capacity(cols.len());
    for (i, &p) in rows.iter().enumerate() {
        let mut diagonal = 0.0; // previous row's value at j - 1
        for (j, &q) in cols.iter().enumerate() {
            let d = point_distance(p, q);
            let best = match (i, j) {
                (0, 0) => None,
                (0, _) => Some(row[j - 1]),
                (_, 0) => Some(row[0]),
                _ => Some(row[j].min(row[j - 1]).min(diagonal)),
            };
            let value = combine(d, best);
            if i == 0 {
                row.push(value);
            } else {
                diagonal = row[j];
                row[j] = value;
            }
        }
    }
    row.last().copied()
}

/// Dynamic time warping distance between two sequences of 2-D points.
///
/// The cost of aligning `a[i]` with `b[j]` is their Euclidean distance. A warping path goes
/// from `(0, 0)` to `(len(a) − 1, len(b) − 1)` by steps `(+1, 0)`, `(0, +1)` or `(+1, +1)`, so
/// every point of each sequence is matched at least once, in order; the result is the minimum
/// over paths of the sum of the costs along the path (no normalisation by path length, no
/// window constraint). Recurrence: `D[i][j] = d(a[i], b[j]) + min(D[i−1][j], D[i][j−1],
/// D[i−1][j−1])`.
///
/// `dtw([(0,0), (1,0), (2,0)], [(0,0), (2,0)])` is 1.0 (the middle point is matched to either
/// end, at distance 1). Symmetric; 0.0 when the sequences are equal or differ only by repeated
/// points. None if either sequence is empty. If any coordinate is NaN or infinite, the result is
/// `Some(NaN)`. The sum can overflow to +∞ for astronomically large coordinates.
///
/// Time: O(n·m) point distances. Memory: O(min(n, m)).
pub fn dtw(a: &[(f64, f64)], b: &[(f64, f64)]) -> Option<f64> {
    sweep(a, b, |d, best| d + best.unwrap_or(0.0))
}

/// Discrete Fréchet distance between two polygonal curves given by their vertices (Eiter and
/// Mannila, 1994): the "dog-leash" distance where both walkers move forward along their own
/// sequence of points, one or both stepping at each move.
///
/// Same warping paths as [`dtw`], but a path costs the *largest* Euclidean distance along it
/// instead of the sum, and the result is the minimum over paths: `C[i][j] = max(d(a[i], b[j]),
/// min(C[i−1][j], C[i][j−1], C[i−1][j−1]))`, with `C[0][0] = d(a[0], b[0])`. Computed
/// iteratively, row by row (no recursion, so long curves cannot overflow the stack).
///
/// `frechet([(0,0), (1,0), (2,0)], [(0,1), (2,1)])` is √2 (the middle vertex is at least √2
/// from either vertex of the other curve). Symmetric; at least the distance between the two
/// first points and between the two last points; 0.0 for equal sequences; always one of the
/// pairwise distances. None if either sequence is empty. If any coordinate is NaN or infinite,
/// the result is `Some(NaN)`.
///
/// Time: O(n·m) point distances. Memory: O(min(n, m)).
pub fn frechet(a: &[(f64, f64)], b: &[(f64, f64)]) -> Option<f64> {
    sweep(a, b, |d, best| best.map_or(d, |b| d.max(b)))
}

/// Relative error of `pred` with respect to `gold`: `|pred − gold| / |gold|`.
///
/// When `gold` is 0 the ratio is undefined: the result is 0.0 if `pred` is 0 too (either sign)
/// and +∞ otherwise. NaN in either argument gives NaN. Infinite arguments follow IEEE
/// arithmetic: `relative_error(inf, 1)` is +∞, while `relative_error(1, inf)` and
/// `relative_error(inf, inf)` are NaN. The difference never overflows for finite arguments
/// (`relative_error(1e308, -1e308)` is 2.0), though the ratio itself can be +∞
/// (`relative_error(1e300, 1e-300)`).
///
/// `relative_error(110, 100)` is 0.1 (up to rounding: `|110 − 100| / 100` in floating point),
/// `relative_error(-1, 1)` is 2.0. Not symmetric.
///
/// Time: O(1).
pub fn relative_error(pred: f64, gold: f64) -> f64 {
    if pred.is_nan() || gold.is_nan() {
        return f64::NAN;
    }
    if gold == 0.0 {
        return if pred == 0.0 { 0.0 } else { f64::INFINITY };
    }
    let diff = (pred - gold).abs();
    if diff.is_infinite() && pred.is_finite() && gold.is_finite() {
        // Halving is exact here (both are huge), and brings the difference back in range.
        return (pred * 0.5 - gold * 0.5).abs() / (gold.abs() * 0.5);
    }
    diff / gold.abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        /// A small integer coordinate in -10..=10, so that boxes often touch and overlap.
        fn coord(&mut self) -> f64 {
            (self.next() % 21) as f64 - 10.0
        }

        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }

        fn points(&mut self, max_len: usize) -> Vec<(f64, f64)> {
            let n = (self.next() % (max_len as u64 + 1)) as usize;
            (0..n).map(|_| (self.coord(), self.coord())).collect()
        }
    }

    /// The plain formula, without rescaling.
    fn naive_iou(a: [f64; 4], b: [f64; 4]) -> f64 {
        let inter = area(
            a[0].max(b[0]),
            a[1].max(b[1]),
            a[2].min(b[2]),
            a[3].min(b[3]),
        );
        let union = area(a[0], a[1], a[2], a[3]) + area(b[0], b[1], b[2], b[3]) - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }

    /// The full (n+1)×(m+1) table with infinite borders, as the reference.
    fn naive_table(
        a: &[(f64, f64)],
        b: &[(f64, f64)],
        combine: impl Fn(f64, f64) -> f64,
    ) -> Option<f64> {
        if a.is_empty() || b.is_empty() {
            return None;
        }
        let mut t = vec![vec![f64::INFINITY; b.len() + 1]; a.len() + 1];
        t[0][0] = 0.0;
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let best = t[i - 1][j].min(t[i][j - 1]).min(t[i - 1][j - 1]);
                t[i][j] = combine(point_distance(a[i - 1], b[j - 1]), best);
            }
        }
        Some(t[a.len()][b.len()])
    }

    const P2_1000: f64 = 1.0715086071862673e301; // 2^1000
    const P2_M1000: f64 = 9.332636185032189e-302; // 2^-1000

    #[test]
    fn iou_basics() {
        assert_eq!(iou([0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0]), 1.0 / 7.0);
        assert_eq!(iou([0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0]), 1.0);
        assert_eq!(iou([0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 2.0, 2.0]), 0.0625);
        assert_eq!(iou([0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0]), 0.0);
        // Touching along an edge or at a corner.
        assert_eq!(iou([0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 2.0, 1.0]), 0.0);
        assert_eq!(iou([0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 2.0, 2.0]), 0.0);
        // Half overlap: 50 / (100 + 100 - 50).
        assert_eq!(
            iou([10.0, 10.0, 20.0, 20.0], [15.0, 10.0, 25.0, 20.0]),
            1.0 / 3.0
        );
        assert_eq!(
            iou([-3.0, -1.0, -1.0, 1.0], [-2.0, -1.0, 0.0, 1.0]),
            1.0 / 3.0
        );
        assert_eq!(iou([0.1, 0.2, 0.7, 0.9], [0.3, 0.1, 0.8, 0.6]), {
            let inter = (0.7 - 0.3) * (0.6 - 0.2);
            inter / ((0.7 - 0.1) * (0.9 - 0.2) + (0.8 - 0.3) * (0.6 - 0.1) - inter)
        });
    }

    #[test]
    fn iou_degenerate_and_inverted_boxes() {
        // Inverted boxes have no area.
        assert_eq!(iou([2.0, 2.0, 0.0, 0.0], [0.0, 0.0, 2.0, 2.0]), 0.0);
        assert_eq!(iou([2.0, 2.0, 0.0, 0.0], [2.0, 2.0, 0.0, 0.0]), 0.0);
        assert_eq!(iou([0.0, 2.0, 2.0, 0.0], [0.0, 0.0, 2.0, 2.0]), 0.0);
        // Points and segments: no area, union 0 when both are.
        assert_eq!(iou([1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]), 0.0);
        assert_eq!(iou([1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0]), 0.0);
        assert_eq!(iou([0.0, 1.0, 2.0, 1.0], [0.0, 0.0, 2.0, 2.0]), 0.0);
        assert_eq!(iou([0.0; 4], [0.0; 4]), 0.0);
    }

    #[test]
    fn iou_non_finite_is_nan() {
        assert!(iou([f64::NAN, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]).is_nan());
        assert!(iou([0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, f64::NAN]).is_nan());
        assert!(iou([0.0, 0.0, f64::INFINITY, 1.0], [0.0, 0.0, 1.0, 1.0]).is_nan());
        assert!(iou([f64::NEG_INFINITY, 0.0, 1.0, 1.0], [0.0; 4]).is_nan());
        // NaN even when the other box is empty.
        assert!(iou([2.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, f64::NAN]).is_nan());
    }

    #[test]
    fn iou_extreme_magnitudes() {
        assert_eq!(P2_1000, 2f64.powi(1000));
        assert_eq!(P2_M1000, 2f64.powi(-1000));
        // The plain formula overflows (inf - inf) or underflows (0 / 0) here.
        let huge_a = [0.0, 0.0, P2_1000, P2_1000];
        let huge_b = [0.0, 0.0, P2_1000 / 2.0, P2_1000];
        assert_eq!(naive_iou(huge_a, huge_b), 0.0);
        assert_eq!(iou(huge_a, huge_b), 0.5);
        // 2^2000 / (2·MAX)^2 ≈ 2^-50.
        let whole = [-f64::MAX, -f64::MAX, f64::MAX, f64::MAX];
        let v = iou(whole, huge_a);
        assert!((v / 2f64.powi(-50) - 1.0).abs() < 1e-15, "{v}");
        assert_eq!(iou(whole, whole), 1.0);
        assert_eq!(
            iou([-P2_1000, 0.0, P2_1000, 1.0], [0.0, 0.0, P2_1000, 1.0]),
            0.5
        );
        let v = iou([-f64::MAX, 0.0, f64::MAX, 1.0], [0.0, 0.0, f64::MAX, 1.0]);
        assert!((v - 0.5).abs() < 1e-15, "{v}");
        let tiny = [0.0, 0.0, 1e-200, 1e-200];
        assert_eq!(naive_iou(tiny, tiny), 0.0);
        assert_eq!(iou(tiny, tiny), 1.0);
        let t = P2_M1000;
        assert_eq!(iou([0.0, 0.0, t, t], [t / 2.0, 0.0, 1.5 * t, t]), 1.0 / 3.0);
        let sub = 5e-324;
        assert_eq!(iou([0.0, 0.0, sub, sub], [0.0, 0.0, sub, sub]), 1.0);
        assert_eq!(iou([0.0, 0.0, 2.0 * sub, sub], [0.0, 0.0, sub, sub]), 0.5);
        // Each axis is rescaled independently: a very flat box works too.
        assert_eq!(
            iou([0.0, 0.0, 1e300, 1e-300], [0.0, 0.0, 1e300, 1e-300]),
            1.0
        );
    }

    #[test]
    fn iou_matches_the_plain_formula_on_ordinary_boxes() {
        let mut rng = Rng(7);
        for i in 0..10_000 {
            let (a, b) = if i % 2 == 0 {
                (
                    [rng.coord(), rng.coord(), rng.coord(), rng.coord()],
                    [rng.coord(), rng.coord(), rng.coord(), rng.coord()],
                )
            } else {
                let s = 1000.0;
                (
                    [
                        rng.unit() * s,
                        rng.unit() * s,
                        rng.unit() * s,
                        rng.unit() * s,
                    ],
                    [
                        rng.unit() * s,
                        rng.unit() * s,
                        rng.unit() * s,
                        rng.unit() * s,
                    ],
                )
            };
            let v = iou(a, b);
            assert_eq!(v.to_bits(), naive_iou(a, b).to_bits(), "{a:?} {b:?}");
            assert_eq!(v.to_bits(), iou(b, a).to_bits());
            assert!((0.0..=1.0).contains(&v));
            if area(a[0], a[1], a[2], a[3]) > 0.0 {
                assert_eq!(iou(a, a), 1.0);
            }
        }
    }

    #[test]
    fn dtw_basics() {
        let line3 = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)];
        assert_eq!(dtw(&line3, &[(0.0, 0.0), (2.0, 0.0)]), Some(1.0));
        assert_eq!(dtw(&line3, &line3), Some(0.0));
        assert_eq!(dtw(&[(0.0, 0.0)], &[(3.0, 4.0)]), Some(5.0));
        assert_eq!(
            dtw(&[(0.0, 0.0)], &[(1.0, 0.0), (2.0, 0.0), (3.0, 0.0)]),
            Some(6.0)
        );
        // Repeated points cost nothing.
        assert_eq!(
            dtw(
                &[(0.0, 0.0), (0.0, 0.0), (1.0, 1.0), (1.0, 1.0), (1.0, 1.0)],
                &[(0.0, 0.0), (1.0, 1.0)]
            ),
            Some(0.0)
        );
        // A shifted copy: each point matched to its neighbour at distance 1 along the
        // diagonal beats any warping.
        let a: Vec<(f64, f64)> = (0..5).map(|i| (f64::from(i), 0.0)).collect();
        let b: Vec<(f64, f64)> = (0..5).map(|i| (f64::from(i), 1.0)).collect();
        assert_eq!(dtw(&a, &b), Some(5.0));
        // Time-shifted sequences: warping absorbs the shift except at the ends.
        let x = [(0.0, 0.0), (0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (1.0, 0.0)];
        let y = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (1.0, 0.0), (0.0, 0.0)];
        assert_eq!(dtw(&x, &y), Some(1.0));
    }

    #[test]
    fn frechet_basics() {
        let line3 = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)];
        assert_eq!(
            frechet(&line3, &[(0.0, 1.0), (2.0, 1.0)]),
            Some(std::f64::consts::SQRT_2)
        );
        assert_eq!(frechet(&line3, &line3), Some(0.0));
        assert_eq!(frechet(&[(0.0, 0.0)], &[(3.0, 4.0)]), Some(5.0));
        assert_eq!(
            frechet(&[(0.0, 0.0)], &[(1.0, 0.0), (2.0, 0.0), (3.0, 0.0)]),
            Some(3.0)
        );
        assert_eq!(
            frechet(&[(0.0, 0.0), (1.0, 0.0)], &[(0.0, 1.0), (1.0, 1.0)]),
            Some(1.0)
        );
        // Same points, opposite direction: the leash must span the whole curve at the start.
        let reversed = [(2.0, 0.0), (1.0, 0.0), (0.0, 0.0)];
        assert_eq!(frechet(&line3, &reversed), Some(2.0));
        // Order matters for Fréchet, unlike the Hausdorff distance (which is 0 here).
        let zigzag = [(0.0, 0.0), (2.0, 0.0), (1.0, 0.0), (3.0, 0.0)];
        let straight = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)];
        assert_eq!(frechet(&zigzag, &straight), Some(1.0));
        assert_eq!(dtw(&zigzag, &straight), Some(2.0));
    }

    #[test]
    fn empty_and_non_finite_sequences() {
        let p = [(1.0, 2.0)];
        assert_eq!(dtw(&[], &p), None);
        assert_eq!(dtw(&p, &[]), None);
        assert_eq!(dtw(&[], &[]), None);
        assert_eq!(frechet(&[], &p), None);
        assert_eq!(frechet(&p, &[]), None);
        assert_eq!(frechet(&[], &[]), None);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let q = [(0.0, 0.0), (bad, 1.0), (2.0, 2.0)];
            assert!(dtw(&p, &q).is_some_and(f64::is_nan));
            assert!(dtw(&q, &p).is_some_and(f64::is_nan));
            assert!(frechet(&p, &q).is_some_and(f64::is_nan));
            assert!(frechet(&q, &[(0.0, bad)]).is_some_and(f64::is_nan));
        }
        // Finite but huge: distances overflow to +inf rather than failing.
        let far = [(f64::MAX, 0.0)];
        let near = [(-f64::MAX, 0.0)];
        assert_eq!(dtw(&far, &near), Some(f64::INFINITY));
        assert_eq!(frechet(&far, &near), Some(f64::INFINITY));
        // hypot does not overflow where the squares would.
        let s = 2f64.powi(600);
        assert_eq!(dtw(&[(3.0 * s, 0.0)], &[(0.0, 4.0 * s)]), Some(5.0 * s));
    }

    #[test]
    fn sweeps_match_the_full_table_and_are_symmetric() {
        let mut rng = Rng(11);
        for _ in 0..2_000 {
            let a = rng.points(12);
            let b = rng.points(12);
            let d = dtw(&a, &b);
            let f = frechet(&a, &b);
            assert_eq!(d, naive_table(&a, &b, |d, best| d + best), "{a:?} {b:?}");
            assert_eq!(f, naive_table(&a, &b, f64::max), "{a:?} {b:?}");
            assert_eq!(d.map(f64::to_bits), dtw(&b, &a).map(f64::to_bits));
            assert_eq!(f.map(f64::to_bits), frechet(&b, &a).map(f64::to_bits));
            if let (Some(d), Some(f)) = (d, f) {
                // The best path's maximum is at most its sum; both are bounded below by
                // the forced first and last pairs.
                let ends =
                    point_distance(a[0], b[0]).max(point_distance(a[a.len() - 1], b[b.len() - 1]));
                assert!(f <= d && ends <= f, "{a:?} {b:?}");
                assert!(a
                    .iter()
                    .any(|&p| b.iter().any(|&q| point_distance(p, q) == f)));
            }
            assert_eq!(dtw(&a, &a).unwrap_or(0.0), 0.0);
            assert_eq!(frechet(&a, &a).unwrap_or(0.0), 0.0);
        }
    }

    #[test]
    fn long_sequences_are_fast_and_iterative() {
        // 200,000 × 5 cells, and a 1,500 × 1,500 square.
        let long: Vec<(f64, f64)> = (0..200_000).map(|i| (f64::from(i), 0.0)).collect();
        let short = [(0.0, 0.0)];
        assert_eq!(frechet(&long, &short), Some(199_999.0));
        assert_eq!(frechet(&short, &long), Some(199_999.0));
        let five: Vec<(f64, f64)> = (0..5).map(|i| (f64::from(i) * 50_000.0, 0.0)).collect();
        assert!(dtw(&long, &five).is_some_and(|d| d > 0.0 && d.is_finite()));
        let a: Vec<(f64, f64)> = (0..1_500).map(|i| (f64::from(i), 0.0)).collect();
        let b: Vec<(f64, f64)> = (0..1_500).map(|i| (f64::from(i), 1.0)).collect();
        assert_eq!(dtw(&a, &b), Some(1_500.0));
        assert_eq!(frechet(&a, &b), Some(1.0));
    }

    #[test]
    fn relative_error_rules() {
        assert_eq!(relative_error(110.0, 100.0), 0.1);
        assert_eq!(relative_error(90.0, 100.0), 0.1);
        assert_eq!(relative_error(-1.0, 1.0), 2.0);
        assert_eq!(relative_error(-5.0, -4.0), 0.25);
        assert_eq!(relative_error(3.0, 3.0), 0.0);
        assert_eq!(relative_error(0.0, 0.0), 0.0);
        assert_eq!(relative_error(-0.0, 0.0), 0.0);
        assert_eq!(relative_error(0.0, -0.0), 0.0);
        assert_eq!(relative_error(1e-300, 0.0), f64::INFINITY);
        assert_eq!(relative_error(-2.0, 0.0), f64::INFINITY);
        assert_eq!(relative_error(0.0, 2.0), 1.0);
        assert!(relative_error(f64::NAN, 1.0).is_nan());
        assert!(relative_error(1.0, f64::NAN).is_nan());
        assert!(relative_error(f64::NAN, 0.0).is_nan());
        assert!(relative_error(0.0, f64::NAN).is_nan());
        assert_eq!(relative_error(f64::INFINITY, 1.0), f64::INFINITY);
        assert_eq!(relative_error(f64::INFINITY, 0.0), f64::INFINITY);
        assert!(relative_error(1.0, f64::INFINITY).is_nan());
        assert!(relative_error(f64::INFINITY, f64::INFINITY).is_nan());
        // The difference overflows, the answer does not.
        assert_eq!(relative_error(1e308, -1e308), 2.0);
        assert_eq!(relative_error(f64::MAX, -f64::MAX), 2.0);
        assert_eq!(relative_error(-f64::MAX, f64::MAX / 2.0), 3.0);
        assert_eq!(relative_error(1e300, 1e-300), f64::INFINITY);
        assert_eq!(relative_error(5e-324, 1e-323), 0.5);
    }
}
