//! What a run measured: latency histograms, the figures of each scenario,
//! the table on stdout and the JSON results.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::client::Result;

/// A histogram of microseconds, 1 µs to an hour (longer is counted as an
/// hour), 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
}

/// Latencies by operation, shared by the workers of a scenario.
#[derive(Default)]
pub struct Latencies(Mutex<BTreeMap<&'static str, Histogram<u64>>>);

impl Latencies {
    pub fn record(&self, label: &'static str, took: Duration) {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.entry(label)
            .or_insert_with(histogram)
            .saturating_record(took.as_micros() as u64);
    }

    /// Awaits `operation` and records how long it took, if it succeeded.
    pub async fn time<T>(&self, label: &'static str, operation: impl Future<Output = Result<T>>) -> Result<T> {
        let started = Instant::now();
        let outcome = operation.await?;
        self.record(label, started.elapsed());
        Ok(outcome)
    }

    /// How many operations were recorded (under any label).
    pub fn count(&self) -> u64 {
        let all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.values().map(Histogram::len).sum()
    }

    /// Per label: operations per second over `elapsed`, p50 and p99.
    pub fn figures(&self, scenario: &'static str, elapsed: Duration) -> Vec<Figure> {
        let all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.iter()
            .flat_map(|(label, h)| {
                let mut figures = vec![Figure::rate(scenario, format!("{label}_per_s"), h.len(), elapsed)];
                figures.extend(latency(scenario, label, h, &[50.0, 99.0]));
                figures
            })
            .collect()
    }
}

/// One measured number. Rates (per second) are shown with their ratio to
/// the baseline's requests per second.
#[derive(Debug, Clone)]
pub struct Figure {
    pub scenario: &'static str,
    pub metric: String,
    pub value: f64,
    pub rate: bool,
}

impl Figure {
    pub fn value(scenario: &'static str, metric: impl Into<String>, value: f64) -> Figure {
        Figure {
            scenario,
            metric: metric.into(),
            value,
            rate: false,
        }
    }

    pub fn per_second(scenario: &'static str, metric: impl Into<String>, value: f64) -> Figure {
        Figure {
            rate: true,
            ..Figure::value(scenario, metric, value)
        }
    }

    /// `count` over `elapsed`, per second.
    pub fn rate(scenario: &'static str, metric: impl Into<String>, count: u64, elapsed: Duration) -> Figure {
        Figure::per_second(scenario, metric, count as f64 / elapsed.as_secs_f64().max(1e-9))
    }
}

/// `{name}_p50_ms`, ... for each quantile (p99.9 reads `p99_9`).
pub fn latency(scenario: &'static str, name: &str, h: &Histogram<u64>, quantiles: &[f64]) -> Vec<Figure> {
    quantiles
        .iter()
        .map(|q| {
            let metric = format!("{name}_p{}_ms", q.to_string().replace('.', "_"));
            Figure::value(scenario, metric, h.value_at_percentile(*q) as f64 / 1000.0)
        })
        .collect()
}

fn shown(value: f64) -> String {
    match value.abs() {
        v if v.fract() == 0.0 || v >= 100.0 => format!("{value:.0}"),
        v if v >= 1.0 => format!("{value:.2}"),
        _ => format!("{value:.3}"),
    }
}

/// The table: scenario, metric, value, and for rates the ratio to `baseline`.
pub fn table(figures: &[Figure], baseline: Option<f64>) -> String {
    let mut out = format!(
        "{:<10} {:<34} {:>14} {:>12}\n",
        "scenario", "metric", "value", "vs baseline"
    );
    for f in figures {
        let ratio = match baseline {
            Some(b) if f.rate && b > 0.0 => format!("{:.3}", f.value / b),
            _ => String::new(),
        };
        out += &format!(
            "{:<10} {:<34} {:>14} {:>12}\n",
            f.scenario,
            f.metric,
            shown(f.value),
            ratio
        );
    }
    out
}

/// The JSON results: `run` (what was run, on what), `figures` by scenario
/// and metric, `ratios_to_baseline` for rates, and `failures`.
pub fn write_json(
    path: &Path,
    run: Value,
    figures: &[Figure],
    baseline: Option<f64>,
    failures: &[String],
) -> Result<()> {
    let mut by_scenario: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
    let mut ratios: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
    for f in figures {
        by_scenario.entry(f.scenario).or_default().insert(&f.metric, f.value);
        if let Some(b) = baseline.filter(|b| f.rate && *b > 0.0) {
            ratios.entry(f.scenario).or_default().insert(&f.metric, f.value / b);
        }
    }
    let results = json!({"run": run, "figures": by_scenario, "ratios_to_baseline": ratios, "failures": failures});
    std::fs::write(path, serde_json::to_string_pretty(&results)? + "\n")
        .map_err(|e| format!("writing {}: {e}", path.display()).into())
}
