//! The Deflated Sharpe Ratio (Bailey and López de Prado, 2014, "The
//! Deflated Sharpe Ratio", Journal of Portfolio Management 40(5)): the
//! probability that the best variant's Sharpe ratio beats what the best of
//! that many unskilled trials would show, given how much the trials' Sharpe
//! ratios vary and how far the best one's returns are from normal.
//!
//! With per-step (not annualised) Sharpe ratios SR_n of the N trials, the
//! best one's SR*, its T returns' skewness g3 and kurtosis g4 (3 for normal
//! returns), Euler-Mascheroni's constant y and the standard normal Z:
//!
//! ```text
//! SR0 = sqrt(Var[SR_n]) * ((1 - y) Z^-1(1 - 1/N) + y Z^-1(1 - 1/(N e)))
//! DSR = Z( (SR* - SR0) sqrt(T - 1) / sqrt(1 - g3 SR* + (g4 - 1) / 4 SR*^2) )
//! ```

/// Euler-Mascheroni's constant.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// What the Deflated Sharpe Ratio needs of one variant's returns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReturnShape {
    /// Mean over sample standard deviation of the per-step returns (not annualised).
    pub sharpe: f64,
    /// Skewness of the returns (third standardised moment).
    pub skew: f64,
    /// Kurtosis of the returns (fourth standardised moment; 3 for normal returns).
    pub kurtosis: f64,
    /// How many returns.
    pub count: usize,
}

impl ReturnShape {
    /// The shape of the per-step returns of `equity`; `None` with fewer
    /// than three returns or returns that do not vary.
    pub fn of(equity: &[f64]) -> Option<ReturnShape> {
        let returns = || equity.windows(2).map(|w| w[1] / w[0] - 1.0);
        let n = returns().count();
        if n < 3 {
            return None;
        }
        let mean = returns().sum::<f64>() / n as f64;
        let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
        for r in returns() {
            let d = r - mean;
            m2 += d * d;
            m3 += d * d * d;
            m4 += d * d * d * d;
        }
        let (m2, m3, m4) = (m2 / n as f64, m3 / n as f64, m4 / n as f64);
        let sample_sd = (m2 * n as f64 / (n - 1) as f64).sqrt();
        let shape =
            ReturnShape { sharpe: mean / sample_sd, skew: m3 / m2.powf(1.5), kurtosis: m4 / (m2 * m2), count: n };
        [shape.sharpe, shape.skew, shape.kurtosis].iter().all(|x| x.is_finite()).then_some(shape)
    }
}

/// The Deflated Sharpe Ratio of a sweep's best variant, with what it rests on.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Deflated {
    /// How many variants ran with a Sharpe ratio (the trials).
    pub trials: usize,
    /// Sample variance of the trials' per-step Sharpe ratios.
    pub sharpe_variance: f64,
    /// The best variant's per-step Sharpe ratio.
    pub best_sharpe: f64,
    /// SR0: the per-step Sharpe ratio the best of that many unskilled trials would be expected to show.
    pub expected_max_sharpe: f64,
    /// The probability that the best variant's Sharpe ratio is above SR0 (0 to 1).
    pub deflated_sharpe: f64,
}

/// The best of `trials` (number, score as ranked, higher first, `None` when
/// unranked; returns' shape) and its Deflated Sharpe Ratio among every
/// trial with a Sharpe ratio: the best has the highest score, ties going to
/// the lower number. The same rule whether the trials are in memory (a
/// sweep's results) or read back from a store.
pub fn best_and_deflated(
    trials: impl IntoIterator<Item = (u64, Option<f64>, Option<ReturnShape>)>,
) -> (Option<u64>, Option<Deflated>) {
    let mut best: Option<(f64, u64, Option<ReturnShape>)> = None;
    let mut sharpes = Vec::new();
    for (number, score, shape) in trials {
        if let Some(shape) = shape {
            sharpes.push(shape.sharpe);
        }
        let Some(score) = score else { continue };
        if best.is_none_or(|(s, n, _)| score.total_cmp(&s).then(n.cmp(&number)).is_gt()) {
            best = Some((score, number, shape));
        }
    }
    let deflated = best.and_then(|(_, _, shape)| deflated_sharpe(&shape?, &sharpes));
    (best.map(|(_, number, _)| number), deflated)
}

/// The Deflated Sharpe Ratio of `best` among trials with per-step Sharpe
/// ratios `sharpes` (`best`'s among them); `None` with fewer than two trials.
pub fn deflated_sharpe(best: &ReturnShape, sharpes: &[f64]) -> Option<Deflated> {
    let n = sharpes.len();
    if n < 2 {
        return None;
    }
    let mean = sharpes.iter().sum::<f64>() / n as f64;
    let variance = sharpes.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / (n - 1) as f64;
    let trials = n as f64;
    let expected_max = variance.sqrt()
        * ((1.0 - EULER_GAMMA) * normal_quantile(1.0 - 1.0 / trials)
            + EULER_GAMMA * normal_quantile(1.0 - 1.0 / (trials * std::f64::consts::E)));
    let sr = best.sharpe;
    let spread = 1.0 - best.skew * sr + (best.kurtosis - 1.0) / 4.0 * sr * sr;
    let z = (sr - expected_max) * ((best.count as f64) - 1.0).sqrt() / spread.max(f64::MIN_POSITIVE).sqrt();
    let deflated = Deflated {
        trials: n,
        sharpe_variance: variance,
        best_sharpe: sr,
        expected_max_sharpe: expected_max,
        deflated_sharpe: normal_cdf(z),
    };
    [variance, expected_max, deflated.deflated_sharpe].iter().all(|x| x.is_finite()).then_some(deflated)
}

/// The standard normal distribution function (Abramowitz and Stegun
/// 26.2.17; absolute error below 7.5e-8).
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    const B: [f64; 5] = [0.319_381_530, -0.356_563_782, 1.781_477_937, -1.821_255_978, 1.330_274_429];
    let t = 1.0 / (1.0 + 0.231_641_9 * x.abs());
    let poly = t * (B[0] + t * (B[1] + t * (B[2] + t * (B[3] + t * B[4]))));
    let upper = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt() * poly;
    if x >= 0.0 {
        1.0 - upper
    } else {
        upper
    }
}

/// The standard normal quantile, Z^-1(p) for 0 < p < 1 (Acklam's rational
/// approximation; relative error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    const LOW: f64 = 0.024_25;
    if !(p > 0.0 && p < 1.0) {
        return if p == 0.0 {
            f64::NEG_INFINITY
        } else if p == 1.0 {
            f64::INFINITY
        } else {
            f64::NAN
        };
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_functions_match_their_tables() {
        // Python's statistics.NormalDist().inv_cdf and .cdf.
        for (p, z) in [
            (0.001, -3.090232306167813),
            (0.02425, -1.9729610513118845),
            (0.1, -1.2815515655446008),
            (0.5, 0.0),
            (0.9, 1.2815515655446008),
            (0.975, 1.9599639845400536),
            (0.999, 3.090232306167813),
        ] {
            assert!((normal_quantile(p) - z).abs() < 1e-8 * z.abs().max(1.0), "Z^-1({p}) = {}", normal_quantile(p));
        }
        for (x, p) in
            [(-3.0, 0.0013498980316301035), (-1.0, 0.15865525393145707), (0.0, 0.5), (1.96, 0.9750021048517796)]
        {
            assert!((normal_cdf(x) - p).abs() < 1e-7, "Z({x}) = {}", normal_cdf(x));
        }
    }

    #[test]
    fn the_deflated_sharpe_ratio_of_a_case_worked_by_hand() {
        // N = 10 trials with per-step Sharpe ratios averaging 0.1; squared deviations
        // 0.01 + 0.01 + 0 + 0 + 0.01 + 0.0025 + 0.0025 + 0 + 0 + 0.01 = 0.045, variance 0.045 / 9 = 0.005.
        // The best: SR* = 0.2 over T = 253 returns, skew -0.5, kurtosis 4.
        let sharpes = [0.2, 0.0, 0.1, 0.1, 0.0, 0.05, 0.15, 0.1, 0.1, 0.2];
        let best = ReturnShape { sharpe: 0.2, skew: -0.5, kurtosis: 4.0, count: 253 };
        let d = deflated_sharpe(&best, &sharpes).unwrap();
        assert!((d.sharpe_variance - 0.005).abs() < 1e-15, "{}", d.sharpe_variance);
        // SR0 = sqrt(0.005) * (0.422784 * Z^-1(0.9) + 0.577216 * Z^-1(1 - 1/(10e)))
        //     = 0.0707107 * (0.422784 * 1.281552 + 0.577216 * 1.789242) = 0.0707107 * 1.574598 = 0.111341
        assert!((d.expected_max_sharpe - 0.111_340_914).abs() < 1e-8, "{}", d.expected_max_sharpe);
        // z = (0.2 - 0.111341) * sqrt(252) / sqrt(1 + 0.5 * 0.2 + 3/4 * 0.04) = 0.088659 * 15.874508 / 1.063015 = 1.323989
        // DSR = Z(1.323989) = 0.907247
        assert!((d.deflated_sharpe - 0.907_246_612).abs() < 1e-6, "{}", d.deflated_sharpe);
        assert_eq!((d.trials, d.best_sharpe), (10, 0.2));
        assert_eq!(deflated_sharpe(&best, &[0.2]), None, "one trial has no variance");
    }

    #[test]
    fn the_shape_of_returns_is_their_moments() {
        // Equity 100, 110, 99, 108.9, 98.01: returns +10 %, -10 %, +10 %, -10 %:
        // mean 0, population variance 0.01, sample sd sqrt(0.04 / 3); symmetric (skew 0), kurtosis 1.
        let shape = ReturnShape::of(&[100.0, 110.0, 99.0, 108.9, 98.01]).unwrap();
        assert_eq!(shape.count, 4);
        assert!(shape.sharpe.abs() < 1e-12 && shape.skew.abs() < 1e-9, "{shape:?}");
        assert!((shape.kurtosis - 1.0).abs() < 1e-9, "{shape:?}");
        assert_eq!(ReturnShape::of(&[1.0, 2.0, 3.0]), None, "two returns");
        assert_eq!(ReturnShape::of(&[1.0, 1.0, 1.0, 1.0]), None, "no variation");
    }
}
