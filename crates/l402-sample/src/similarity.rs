//! `POST /api/similarity`: cosine similarity of two equal-length vectors.

use axum::Json;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

/// Longest vector accepted.
const MAX_DIMENSIONS: usize = 100_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Vectors {
    a: Vec<f64>,
    b: Vec<f64>,
}

fn cosine(a: &[f64], b: &[f64]) -> Result<f64, &'static str> {
    if a.len() != b.len() {
        return Err("vectors a and b must have the same length");
    }
    if a.is_empty() || a.len() > MAX_DIMENSIONS {
        return Err("vectors must have between 1 and 100000 dimensions");
    }
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let denominator = norm(a) * norm(b);
    if denominator == 0.0 || !denominator.is_finite() {
        return Err("vectors must be non-zero and finite");
    }
    Ok(dot / denominator)
}

pub(crate) async fn handler(Json(v): Json<Vectors>) -> (StatusCode, Json<Value>) {
    match cosine(&v.a, &v.b) {
        Ok(c) => (
            StatusCode::OK,
            Json(json!({ "cosine": c, "dimensions": v.a.len() })),
        ),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))),
    }
}

#[cfg(test)]
mod tests {
    use super::cosine;

    #[test]
    fn cosine_values() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).unwrap().abs() < 1e-12);
        assert!(cosine(&[1.0], &[1.0, 2.0]).is_err());
        assert!(cosine(&[0.0], &[1.0]).is_err());
        assert!(cosine(&[], &[]).is_err());
    }
}
