//! `GET /api/weather?city=...`: a deterministic report derived from the city name.

use axum::Json;
use axum::extract::Query;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub(crate) struct Params {
    city: Option<String>,
}

const CONDITIONS: [&str; 5] = ["sunny", "cloudy", "rain", "snow", "windy"];

/// FNV-1a: a stable hash so the same city always gets the same weather.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(crate) fn report(city: &str) -> Value {
    let h = fnv1a(&city.to_lowercase());
    let temp_c = (h % 45) as i64 - 10;
    json!({
        "city": city,
        "temp_c": temp_c,
        "conditions": CONDITIONS[(h / 45 % CONDITIONS.len() as u64) as usize],
        "humidity_pct": 20 + (h / 7 % 70),
    })
}

pub(crate) async fn handler(Query(p): Query<Params>) -> (StatusCode, Json<Value>) {
    match p.city.as_deref().map(str::trim) {
        Some(city) if !city.is_empty() && city.len() <= 100 => (StatusCode::OK, Json(report(city))),
        _ => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "give a city: /api/weather?city=Paris" })),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::report;

    #[test]
    fn deterministic_and_case_insensitive() {
        assert_eq!(report("Paris")["temp_c"], report("paris")["temp_c"]);
        assert_eq!(report("Paris"), report("Paris"));
        assert_ne!(report("Paris")["temp_c"], report("Oslo")["temp_c"]);
    }
}
