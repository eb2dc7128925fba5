//! The knobs of the answer checker ([`MathOptions`]) and the options of the comparison running
//! on this thread, read by the rules of `math` and `answer` where they apply.

/// How units after values are compared (`units` of [`MathOptions`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Units {
    /// A unit may be written or left out, but two different units are never equal.
    Lenient,
    /// Both sides must have the same unit, or none.
    Strict,
    /// Units are not compared (`309 \text{ s}` is `309 \text{ min}`).
    Ignore,
}

/// The knobs of the answer checker (std::math `math_equal_with`, the peers' options);
/// [`MathOptions::DEFAULT`] is [`math_equal`](super::math::math_equal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MathOptions {
    /// `Some(n)`: numbers are equal when they are exactly equal or agree once each is rounded
    /// to n decimal places (half to even; n in 0..=15), math-verify's `float_rounding`,
    /// instead of the default tolerance (1e-9 relative, and a decimal of k places equals a
    /// non-terminating value it rounds to).
    pub float_rounding: Option<u32>,
    /// Tuples `(a, b)` are compared in order (default) or as multisets.
    pub ordered_tuples: bool,
    /// Sets `\{a, b\}` and bare lists are compared in order, or (default) as sets.
    pub ordered_sets: bool,
    pub units: Units,
    /// A percentage must be one on both sides (`50\%` is neither `50` nor `0.5`); by default a
    /// `%` may be left out, and a `%` gold also accepts the fraction.
    pub strict_percent: bool,
}

impl MathOptions {
    pub const DEFAULT: MathOptions = MathOptions {
        float_rounding: None,
        ordered_tuples: true,
        ordered_sets: false,
        units: Units::Lenient,
        strict_percent: false,
    };

    /// The options from the arguments of `math_equal_options`: a negative `float_rounding` is
    /// the default tolerance, one above 15 is 15; `units` is "lenient", "strict" or "ignore",
    /// `percent` "lenient" or "strict" (anything else is an error naming the choices).
    pub fn from_args(
        float_rounding: i64,
        ordered_tuples: bool,
        ordered_sets: bool,
        units: &str,
        percent: &str,
    ) -> Result<MathOptions, String> {
        let units = match units {
            "lenient" => Units::Lenient,
            "strict" => Units::Strict,
            "ignore" => Units::Ignore,
            other => {
                return Err(format!(
                    "units {other:?} is not one of \"lenient\", \"strict\", \"ignore\""
                ))
            }
        };
        let strict_percent = match percent {
            "lenient" => false,
            "strict" => true,
            other => {
                return Err(format!(
                    "percent {other:?} is not one of \"lenient\", \"strict\""
                ))
            }
        };
        Ok(MathOptions {
            float_rounding: u32::try_from(float_rounding).ok().map(|n| n.min(15)),
            ordered_tuples,
            ordered_sets,
            units,
            strict_percent,
        })
    }
}

impl Default for MathOptions {
    fn default() -> Self {
        MathOptions::DEFAULT
    }
}

thread_local! {
    /// The options of the `math_equal_with` call running on this thread (the checker's rules
    /// read them where they apply, instead of every function taking them).
    static OPTIONS: std::cell::Cell<MathOptions> = const { std::cell::Cell::new(MathOptions::DEFAULT) };
}

/// The options of the comparison in progress.
pub(crate) fn options() -> MathOptions {
    OPTIONS.with(std::cell::Cell::get)
}

/// `a` and `b` rounded to `places` decimals (half to even) are the same number.
pub(crate) fn rounded_equal(a: f64, b: f64, places: u32) -> bool {
    if !a.is_finite() || !b.is_finite() {
        return a == b;
    }
    let scale = 10f64.powi(places as i32);
    (a * scale).round_ties_even() == (b * scale).round_ties_even()
}

/// The options of a comparison, in force until this is dropped (then the caller's are back,
/// even if the comparison unwinds).
pub(crate) struct OptionsInForce(MathOptions);

impl OptionsInForce {
    pub(crate) fn set(opts: MathOptions) -> OptionsInForce {
        OptionsInForce(OPTIONS.with(|o| o.replace(opts)))
    }
}

impl Drop for OptionsInForce {
    fn drop(&mut self) {
        OPTIONS.with(|o| o.set(self.0));
    }
}
