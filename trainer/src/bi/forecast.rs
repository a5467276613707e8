//! Demand forecasts: per category, the next [`HORIZON`] days of units sold, from a linfa linear
//! regression on a trend and weekday indicators. Each category is first backtested on its last
//! [`HORIZON`] days against a seasonal-naive baseline (the last observed week repeated); the model
//! is used only where its MAPE beats the baseline's, otherwise the baseline forecasts.

use linfa::dataset::Dataset;
use linfa::traits::{Fit, Predict};
use linfa_linear::LinearRegression;
use ndarray::{Array1, Array2};

/// Days forecast (and held out in the backtest).
pub const HORIZON: usize = 14;
/// Fewest days of history the model is fitted on in the backtest.
const MIN_TRAIN: usize = 14;

/// How a category's forecast was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Linear regression on trend + weekday.
    Regression,
    /// The last observed week repeated.
    SeasonalNaive,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Regression => "regression",
            Method::SeasonalNaive => "seasonal_naive",
        }
    }
}

/// One category's forecast and backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub method: Method,
    /// Units per day for the [`HORIZON`] days after the history.
    pub units: Vec<f64>,
    /// Backtest MAPE over held-out days with sales (`None`: too little history or no sales).
    pub model_mape: Option<f64>,
    pub naive_mape: Option<f64>,
}

/// Trend and weekday indicators for day `t` (day 0 on weekday `dow0`, 0 = Monday).
fn row(t: usize, dow0: usize) -> [f64; 7] {
    let mut r = [0.0; 7];
    #[expect(clippy::cast_precision_loss, reason = "day numbers")]
    {
        r[0] = t as f64;
    }
    let dow = (dow0 + t) % 7;
    if dow > 0 {
        r[dow] = 1.0;
    }
    r
}

fn design(days: std::ops::Range<usize>, dow0: usize) -> Array2<f64> {
    let n = days.len();
    let flat: Vec<f64> = days.flat_map(|t| row(t, dow0)).collect();
    Array2::from_shape_vec((n, 7), flat).unwrap_or_else(|_| Array2::zeros((n, 7)))
}

/// Regression forecast of the `h` days after `y`.
fn regression(y: &[f64], dow0: usize, h: usize) -> Option<Vec<f64>> {
    let x = design(0..y.len(), dow0);
    let model = LinearRegression::new()
        .fit(&Dataset::new(x, Array1::from(y.to_vec())))
        .ok()?;
    let ahead: Array1<f64> = model.predict(&design(y.len()..y.len() + h, dow0));
    Some(ahead.iter().map(|v| v.max(0.0)).collect())
}

/// The last week of `y` repeated over `h` days (shorter histories: their mean).
fn seasonal_naive(y: &[f64], h: usize) -> Vec<f64> {
    if y.len() < 7 {
        #[expect(clippy::cast_precision_loss, reason = "day counts")]
        let mean = y.iter().sum::<f64>() / y.len().max(1) as f64;
        return vec![mean; h];
    }
    let week = &y[y.len() - 7..];
    (0..h).map(|i| week[i % 7]).collect()
}

/// Mean absolute percentage error over the days with sales.
pub fn mape(actual: &[f64], predicted: &[f64]) -> Option<f64> {
    let errors: Vec<f64> = actual
        .iter()
        .zip(predicted)
        .filter(|(a, _)| **a > 0.0)
        .map(|(a, p)| (a - p).abs() / a)
        .collect();
    #[expect(clippy::cast_precision_loss, reason = "day counts")]
    let n = errors.len() as f64;
    (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / n)
}

/// Backtests and forecasts a daily series whose day 0 falls on weekday `dow0` (0 = Monday).
pub fn forecast(y: &[f64], dow0: usize) -> Forecast {
    let (mut model_mape, mut naive_mape) = (None, None);
    if y.len() >= MIN_TRAIN + HORIZON {
        let (train, test) = y.split_at(y.len() - HORIZON);
        model_mape = regression(train, dow0, HORIZON).and_then(|p| mape(test, &p));
        naive_mape = mape(test, &seasonal_naive(train, HORIZON));
    }
    let method = match (model_mape, naive_mape) {
        (Some(m), Some(n)) if m < n => Method::Regression,
        _ => Method::SeasonalNaive,
    };
    let units = match method {
        Method::Regression => regression(y, dow0, HORIZON),
        Method::SeasonalNaive => None,
    }
    .unwrap_or_else(|| seasonal_naive(y, HORIZON));
    Forecast {
        method,
        units,
        model_mape,
        naive_mape,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trend_with_a_weekly_pattern_is_forecast_by_the_regression() {
        // Growing demand with weekend peaks: the naive week repeats last week's lower level.
        let y: Vec<f64> = (0..56)
            .map(|t| 20.0 + 0.8 * f64::from(t) + if t % 7 >= 5 { 15.0 } else { 0.0 })
            .collect();
        let f = forecast(&y, 0);
        assert_eq!(f.method, Method::Regression, "{f:?}");
        assert!(f.model_mape.unwrap() < 0.01, "{f:?}");
        assert!(f.naive_mape.unwrap() > 0.05, "{f:?}");
        assert_eq!(f.units.len(), HORIZON);
        assert!(
            (f.units[0] - (20.0 + 0.8 * 56.0)).abs() < 0.5,
            "{:?}",
            f.units
        );
        assert!(
            f.units[5] > f.units[4] + 10.0,
            "the weekend peak: {:?}",
            f.units
        );
    }

    #[test]
    fn where_the_model_does_not_beat_the_baseline_the_baseline_forecasts() {
        // A weekly pattern whose level jumps: the last week is the best guess.
        let y: Vec<f64> = (0..42)
            .map(|t| if t < 21 { 5.0 } else { 50.0 } + f64::from(t % 7))
            .collect();
        let f = forecast(&y, 0);
        assert_eq!(f.method, Method::SeasonalNaive, "{f:?}");
        assert_eq!(f.units[..7], y[35..]);
        let short = forecast(&[1.0, 2.0, 3.0], 0);
        assert_eq!(
            (short.method, short.model_mape),
            (Method::SeasonalNaive, None)
        );
        assert_eq!(short.units, vec![2.0; HORIZON]);
        assert_eq!(mape(&[0.0, 2.0], &[5.0, 1.0]), Some(0.5));
    }
}
