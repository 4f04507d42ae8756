//! Cost of the protocol layer over the JSON it carries.
//!
//! For each case, the protocol path (build the `http::Request`/`Response` on one side,
//! parse it on the other) is timed against bare `serde_json` encode + decode of the
//! same value, in the same run, in alternating rounds. The figure that matters is the
//! ratio of medians; absolute times depend on the machine.
//!
//! Run: `cargo bench -p transcend-proto --bench codec`

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::json;
use transcend_proto::endpoint::submit_dsr::SubmitDsrEndpoint;
use transcend_proto::endpoint::upload_access::UploadAccessEndpoint;
use transcend_proto::types::*;
use transcend_proto::{Config, Endpoint, Report, Sombra};

const ROUNDS: usize = 31;

/// Median time per iteration of `f`, over `ROUNDS` rounds of `iterations`, interleaved
/// with `g` so both see the same machine conditions.
fn compare(
    iterations: u32,
    mut baseline: impl FnMut(),
    mut protocol: impl FnMut(),
) -> (Duration, Duration) {
    for _ in 0..iterations {
        baseline();
        protocol();
    }
    let mut base = Vec::with_capacity(ROUNDS);
    let mut proto = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..iterations {
            baseline();
        }
        base.push(start.elapsed() / iterations);
        let start = Instant::now();
        for _ in 0..iterations {
            protocol();
        }
        proto.push(start.elapsed() / iterations);
    }
    base.sort();
    proto.sort();
    (base[ROUNDS / 2], proto[ROUNDS / 2])
}

fn report(name: &str, (base, proto): (Duration, Duration)) -> f64 {
    let ratio = proto.as_secs_f64() / base.as_secs_f64();
    println!("{name:<44} serde_json {base:>10.2?}   protocol {proto:>10.2?}   ratio {ratio:.3}");
    ratio
}

fn full_submission() -> SubmitDsr {
    let subject = Subject::new("id-123456789")
        .email("user@example.com")
        .email_is_verified(true)
        .extra_identifier(
            IdentifierType::Email,
            ExtraIdentifier::new("another-email@example.com"),
        )
        .extra_identifier(
            IdentifierType::Custom,
            ExtraIdentifier::custom("username", "mbrook"),
        );
    SubmitDsr::builder(RequestAction::Access, subject, "customer")
        .region(Region::subdivision(
            CountrySubdivision::parse("US-CA").unwrap(),
        ))
        .request_id("e096a801-75bd-4296-ae6a-7c2553510500")
        .created_at(Timestamp::parse("2022-03-30T04:56:00.143Z").unwrap())
        .email_receipt_template_id("9a558f86-51d4-4237-8c2d-494551991989")
        .skip_enrichment_checks(["b57972ed-736e-4141-8fdb-f5374a651aed"])
        .data_silo_ids(["72462d17-9089-4ab7-b74b-a0d6f6dfce7b"])
        .reply_to_email_addresses(["test@transcend.io"])
        .is_silent(true)
        .skip_sending_receipt(true)
        .skip_waiting_period(true)
        .is_test(false)
        .locale(Locale::En)
        .completed_request_status(CompletedRequestStatus::Completed)
        .details("Additional details/notes about the request, if you'd like to add them")
        .attribute(Attribute::new(
            "attributeKey",
            ["value1", "value2", "value3"],
        ))
        .attribute(Attribute::new("Source", ["Mobile iOS App"]))
        .build()
        .unwrap()
}

fn submit_response() -> SubmitDsrResponse {
    serde_json::from_value(json!({ "request": {
        "id": "da13d328-3f9d-40d5-9312-9f4fcf3ad0d2", "status": "COMPILING", "type": "ACCESS",
        "subjectType": "customer", "email": "user@example.com", "coreIdentifier": "id-123456789",
        "isSilent": true, "isTest": false, "replyToEmailAddresses": [],
        "link": "https://app.transcend.io/privacy-requests/incoming-requests/da13d328-3f9d-40d5-9312-9f4fcf3ad0d2"
    }}))
    .unwrap()
}

/// About 1 MB of JSON datapoints across a few profiles.
fn megabyte_upload() -> AccessUpload {
    let profiles = (0..4)
        .map(|p| {
            let orders: Vec<serde_json::Value> = (0..2_200)
                .map(|i| json!({"orderId": format!("order-{p}-{i}"), "total": i * 7, "items": ["pizza", "salad"], "shipped": i % 2 == 0, "note": "Leave at the door, ring twice"}))
                .collect();
            AccessProfile::new(format!("profile-{p}"))
                .datapoint("name", json!("Ben Farrell"))
                .datapoint("orders", serde_json::Value::Array(orders))
        })
        .collect();
    AccessUpload::ready(profiles)
}

fn main() {
    let config = Config::new("api-key")
        .with_sombra(Sombra::Url("https://sombra.acme.test".into()))
        .unwrap();
    let mut ratios = Vec::new();

    let dsr = full_submission();
    ratios.push(report(
        "submit request: build + parse",
        compare(
            20_000,
            || {
                let bytes = serde_json::to_vec(black_box(&dsr)).unwrap();
                black_box(serde_json::from_slice::<SubmitDsr>(&bytes).unwrap());
            },
            || {
                let request = SubmitDsrEndpoint::build_request(&config, black_box(&dsr)).unwrap();
                black_box(SubmitDsrEndpoint::parse_request(request).unwrap());
            },
        ),
    ));

    let response = submit_response();
    ratios.push(report(
        "submit response: build + parse",
        compare(
            20_000,
            || {
                let bytes = serde_json::to_vec(black_box(&response)).unwrap();
                black_box(serde_json::from_slice::<SubmitDsrResponse>(&bytes).unwrap());
            },
            || {
                let built = SubmitDsrEndpoint::build_response(black_box(&response));
                black_box(SubmitDsrEndpoint::parse_response(built).unwrap());
            },
        ),
    ));

    ratios.push(report(
        "submit request + response: both sides",
        compare(
            10_000,
            || {
                let bytes = serde_json::to_vec(black_box(&dsr)).unwrap();
                black_box(serde_json::from_slice::<SubmitDsr>(&bytes).unwrap());
                let bytes = serde_json::to_vec(black_box(&response)).unwrap();
                black_box(serde_json::from_slice::<SubmitDsrResponse>(&bytes).unwrap());
            },
            || {
                let request = SubmitDsrEndpoint::build_request(&config, black_box(&dsr)).unwrap();
                black_box(SubmitDsrEndpoint::parse_request(request).unwrap());
                let built = SubmitDsrEndpoint::build_response(black_box(&response));
                black_box(SubmitDsrEndpoint::parse_response(built).unwrap());
            },
        ),
    ));

    let upload = Report::new("nonce-1", megabyte_upload());
    let size = serde_json::to_vec(&upload.body).unwrap().len();
    ratios.push(report(
        &format!("access upload ({:.2} MB): build + parse", size as f64 / 1e6),
        compare(
            20,
            || {
                let bytes = serde_json::to_vec(black_box(&upload.body)).unwrap();
                black_box(serde_json::from_slice::<AccessUpload>(&bytes).unwrap());
            },
            || {
                let request =
                    UploadAccessEndpoint::build_request(&config, black_box(&upload)).unwrap();
                black_box(UploadAccessEndpoint::parse_request(request).unwrap());
            },
        ),
    ));

    let worst = ratios.iter().copied().fold(0.0, f64::max);
    println!("worst ratio {worst:.3} (target at most 1.30)");
}
