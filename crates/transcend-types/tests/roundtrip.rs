//! Laws: every body and enum survives value -> JSON -> value unchanged, valid values
//! stay valid through JSON, and no input makes parsing panic.

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use transcend_types::arbitrary as s;
use transcend_types::*;

fn json_identity<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let text = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(&back, value, "{text}");
    assert_eq!(
        serde_json::to_string(&back).unwrap(),
        text,
        "not byte-identical"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn submit_dsr(value in s::submit_dsr(false)) { json_identity(&value) }

    #[test]
    fn valid_submissions_validate(value in s::submit_dsr(true)) {
        prop_assert!(value.validate().is_ok(), "{:?}", value.validate());
        json_identity(&value);
    }

    #[test]
    fn submit_dsr_response(value in s::submit_dsr_response()) { json_identity(&value) }

    #[test]
    fn dsr_status(value in s::dsr_status()) { json_identity(&value) }

    #[test]
    fn access_upload(value in s::access_upload(false)) { json_identity(&value) }

    #[test]
    fn erasure_report(value in s::erasure_report(false)) { json_identity(&value) }

    #[test]
    fn valid_reports_validate(access in s::access_upload(true), erasure in s::erasure_report(true)) {
        prop_assert!(access.validate().is_ok());
        prop_assert!(erasure.validate().is_ok());
    }

    #[test]
    fn datapoint_upload(value in s::datapoint_upload()) {
        prop_assert!(value.validate().is_ok());
        json_identity(&value)
    }

    #[test]
    fn datapoint_chunk(value in s::datapoint_chunk()) { json_identity(&value) }

    #[test]
    fn requester_pages(
        identifiers in s::request_identifiers_page(),
        query in s::request_identifiers_query(),
        keys in s::download_keys_page(),
    ) {
        json_identity(&identifiers);
        json_identity(&query);
        json_identity(&keys);
    }

    #[test]
    fn pending_requests(page in s::pending_requests_page()) { json_identity(&page) }

    #[test]
    fn enrichments(value in s::enrich_identifiers(false), valid in s::enrich_identifiers(true)) {
        json_identity(&value);
        prop_assert!(valid.validate().is_ok(), "{:?}", valid.validate());
    }

    #[test]
    fn dsr_job(value in s::dsr_job()) { json_identity(&value) }

    #[test]
    fn error_body(value in s::error_body()) { json_identity(&value) }

    #[test]
    fn enums(
        a in s::request_action(false), s in s::request_status(false), c in s::completed_request_status(false),
        x in s::access_status(false), i in s::integration_status(false), p in s::profile_status(false),
        l in s::locale(false), t in s::identifier_type(false), k in s::country(false),
    ) {
        json_identity(&a); json_identity(&s); json_identity(&c);
        json_identity(&x); json_identity(&i); json_identity(&p);
        json_identity(&l); json_identity(&t); json_identity(&k);
    }

    #[test]
    fn arbitrary_json_never_panics(value in s::json_value(), bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let text = value.to_string();
        for input in [text.as_bytes(), bytes.as_slice()] {
            let _ = serde_json::from_slice::<SubmitDsr>(input).map(|v| v.validate());
            let _ = serde_json::from_slice::<SubmitDsrResponse>(input);
            let _ = serde_json::from_slice::<DsrStatus>(input);
            let _ = serde_json::from_slice::<AccessUpload>(input).map(|v| v.validate());
            let _ = serde_json::from_slice::<ErasureReport>(input).map(|v| v.validate());
            let _ = serde_json::from_slice::<DatapointUpload>(input).map(|v| v.validate());
            let _ = serde_json::from_slice::<DatapointChunk>(input).map(|v| v.validate());
            let _ = serde_json::from_slice::<DsrJob>(input);
            let _ = serde_json::from_slice::<ErrorBody>(input);
            let _ = serde_json::from_slice::<RequestStatus>(input);
            let _ = serde_json::from_slice::<Country>(input);
        }
    }
}
