//! The meter layer alone, over an in-memory ledger: what each kind of answer is billed, that a
//! reservation is settled exactly once, and that the upstream is told its cap.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use l402_core::session::{Close, Credit, Opened, RefundOutcome, Reserve};
use l402_core::{Msat, PaymentHash};
use l402_tower::{
    BalanceReservation, LedgerError, MAX_UNITS_HEADER, MeterLayer, Metering, OpenSession,
    SessionLedger,
};
use tower::{Layer, ServiceExt, service_fn};

/// Records every settlement: (reserved, used).
#[derive(Default)]
struct Settlements(Mutex<Vec<(u64, u64)>>);

impl SessionLedger for Settlements {
    fn check_return_invoice(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
    fn open(&self, _: &OpenSession<'_>) -> Result<Opened, LedgerError> {
        Ok(Opened::Opened)
    }
    fn credit(&self, _: &PaymentHash, _: &PaymentHash, _: Msat) -> Result<Credit, LedgerError> {
        Ok(Credit::NotFound)
    }
    fn reserve(&self, _: &PaymentHash, _: &str, _: Msat) -> Result<Reserve, LedgerError> {
        Ok(Reserve::NotFound)
    }
    fn settle(&self, _: &PaymentHash, reserved: Msat, used: Msat) -> Result<(), LedgerError> {
        self.0.lock().unwrap().push((reserved.0, used.0));
        Ok(())
    }
    fn close(&self, _: &PaymentHash) -> Result<Close, LedgerError> {
        Ok(Close::NotFound)
    }
    fn record_refund(&self, _: &PaymentHash, _: RefundOutcome) -> Result<(), LedgerError> {
        Ok(())
    }
}

fn reservation(ledger: &Arc<Settlements>) -> BalanceReservation {
    let metering = Metering {
        unit_price: Msat(1_000),
        unit: "token".into(),
        reserve_units: 10,
        deposit_units: 100,
        idle_timeout_secs: 300,
    };
    BalanceReservation {
        session_id: PaymentHash([1; 32]),
        reserved: metering.reservation(),
        metering: Arc::new(metering),
        ledger: ledger.clone() as Arc<dyn SessionLedger>,
    }
}

/// Waits for the settlements (they run on a blocking thread) and returns them.
async fn settled(ledger: &Settlements, count: usize) -> Vec<(u64, u64)> {
    if count == 0 {
        // Nothing expected: give a wrong settlement the time to show up.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..200 {
        let now = ledger.0.lock().unwrap().clone();
        if now.len() >= count {
            // Give a wrong second settlement the time to show up.
            tokio::time::sleep(Duration::from_millis(20)).await;
            return ledger.0.lock().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    ledger.0.lock().unwrap().clone()
}

/// Sends one metered request to an upstream answering `status`, `headers` and `body` (and
/// `trailers`); reads the whole answer; returns the settlements and the cap the upstream saw.
async fn metered(
    status: StatusCode,
    headers: &[(&str, &str)],
    body: &'static str,
    trailers: Option<HeaderMap>,
) -> (Vec<(u64, u64)>, String) {
    let ledger = Arc::new(Settlements::default());
    let cap = Arc::new(Mutex::new(String::new()));
    let seen = cap.clone();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let upstream = service_fn(move |request: Request<Full<Bytes>>| {
        *seen.lock().unwrap() = request.headers()[MAX_UNITS_HEADER]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(request.headers().get("accept-encoding").is_none());
        let mut frames = std::collections::VecDeque::from([http_body::Frame::data(
            Bytes::from_static(body.as_bytes()),
        )]);
        if let Some(t) = trailers.clone() {
            frames.push_back(http_body::Frame::trailers(t));
        }
        let mut response = Response::new(Frames(frames));
        *response.status_mut() = status;
        for (k, v) in &headers {
            response.headers_mut().insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        async move { Ok::<_, std::convert::Infallible>(response) }
    });
    let service = MeterLayer.layer(upstream);
    let mut request = Request::new(Full::default());
    request
        .headers_mut()
        .insert("accept-encoding", "gzip".parse().unwrap());
    request.extensions_mut().insert(reservation(&ledger));
    let response = service.oneshot(request).await.unwrap();
    response.into_body().collect().await.unwrap();
    let out = settled(&ledger, 1).await;
    let cap = cap.lock().unwrap().clone();
    (out, cap)
}

/// A body of ready frames.
struct Frames(std::collections::VecDeque<http_body::Frame<Bytes>>);

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(Ok))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_kind_of_answer_is_billed_as_documented() {
    // The usage header: 3 of 10 reserved units used, 7 go back.
    let (s, cap) = metered(StatusCode::OK, &[("l402-usage", "3")], "ok", None).await;
    assert_eq!(cap, "10", "the upstream is told its cap");
    assert_eq!(s, [(10_000, 3_000)]);

    // A trailer.
    let mut t = HeaderMap::new();
    t.insert("l402-usage", "4".parse().unwrap());
    let (s, _) = metered(StatusCode::OK, &[], "ok", Some(t)).await;
    assert_eq!(s, [(10_000, 4_000)]);

    // The last usage event of a stream.
    let (s, _) = metered(
        StatusCode::OK,
        &[("content-type", "text/event-stream")],
        "data: {\"token\":\"a\"}\n\nevent: l402-usage\ndata: {\"units\":6}\n\ndata: [DONE]\n\n",
        None,
    )
    .await;
    assert_eq!(s, [(10_000, 6_000)]);

    // Usage beyond the cap is billed as the cap: nothing to give back, no settlement.
    let (s, _) = metered(StatusCode::OK, &[("l402-usage", "99")], "ok", None).await;
    assert_eq!(s, []);

    // A 2xx with no report: billed in full (no settlement). An error with no report: nothing.
    let (s, _) = metered(StatusCode::OK, &[], "ok", None).await;
    assert_eq!(s, []);
    let (s, _) = metered(StatusCode::BAD_GATEWAY, &[], "upstream down", None).await;
    assert_eq!(s, [(10_000, 0)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_dropped_unfinished_is_billed_its_report_or_in_full_once() {
    for (headers, expected) in [
        (vec![("l402-usage", "2")], vec![(10_000u64, 2_000u64)]),
        (vec![], vec![]),
    ] {
        let ledger = Arc::new(Settlements::default());
        let headers: Vec<(String, String)> = headers
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let upstream = service_fn(move |_: Request<Full<Bytes>>| {
            let mut response = Response::new(Frames(std::collections::VecDeque::from([
                http_body::Frame::data(Bytes::from_static(b"first")),
                http_body::Frame::data(Bytes::from_static(b"second")),
            ])));
            for (k, v) in &headers {
                response.headers_mut().insert(
                    http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            async move { Ok::<_, std::convert::Infallible>(response) }
        });
        let mut request = Request::new(Full::default());
        request.extensions_mut().insert(reservation(&ledger));
        let response = MeterLayer.layer(upstream).oneshot(request).await.unwrap();
        let mut body = response.into_body();
        body.frame().await.unwrap().unwrap();
        drop(body);
        assert_eq!(settled(&ledger, expected.len()).await, expected);
    }
}

#[tokio::test]
async fn requests_without_a_reservation_pass_untouched() {
    let upstream = service_fn(|request: Request<Full<Bytes>>| async move {
        assert!(request.headers().get(MAX_UNITS_HEADER).is_none());
        assert_eq!(request.headers()["accept-encoding"], "gzip");
        Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(b"free"))))
    });
    let mut request = Request::new(Full::default());
    request
        .headers_mut()
        .insert("accept-encoding", "gzip".parse().unwrap());
    let response = MeterLayer.layer(upstream).oneshot(request).await.unwrap();
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "free"
    );
}
