//! Every example body of the reference pages parses, writes back to the same JSON,
//! passes validation, and validates against its published schema. The one exception is
//! 004's "all options" example, which breaks 004's own rule and must say so.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use transcend_types::schema::schema_for;
use transcend_types::*;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixtures_with_prefix(prefix: &str) -> Vec<String> {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.split('.').next() == Some(prefix))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no fixture for {prefix}");
    names
}

/// Parses the example, writes it back, and checks it against the type's schema.
fn round_trip<T: DeserializeOwned + Serialize + schemars::JsonSchema>(name: &str) -> T {
    let example = fixture(name);
    let value: T =
        serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        serde_json::to_value(&value).unwrap(),
        example,
        "{name} did not write back unchanged"
    );
    let schema = schema_for::<T>();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&example)
        .map(|e| e.to_string())
        .collect();
    if !name.contains("all_options") {
        assert!(
            errors.is_empty(),
            "{name} does not match its schema: {errors:?}"
        );
    }
    value
}

fn round_trip_all<T: DeserializeOwned + Serialize + schemars::JsonSchema>(
    prefix: &str,
) -> Vec<(String, T)> {
    fixtures_with_prefix(prefix)
        .into_iter()
        .map(|name| (name.clone(), round_trip::<T>(&name)))
        .collect()
}

#[test]
fn submit_examples_round_trip_and_validate() {
    for (name, dsr) in round_trip_all::<SubmitDsr>("submit_dsr") {
        if name.contains("all_options") {
            continue;
        }
        dsr.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn the_all_options_example_parses_but_breaks_the_silo_list_rule() {
    let dsr = round_trip::<SubmitDsr>("submit_dsr.all_options.json");
    assert_eq!(dsr.region.as_ref().unwrap().country, Some(Country::US));
    assert_eq!(dsr.attributes.as_ref().unwrap().len(), 2);

    let error = dsr.validate().unwrap_err();
    assert_eq!(error.problems().len(), 1, "{error}");
    assert_eq!(
        error.to_string(),
        "invalid request body: `dataSiloIds` cannot be set together with `ignoreDataSiloIds`: set one or neither"
    );

    let schema = schema_for::<SubmitDsr>();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let example = fixture("submit_dsr.all_options.json");
    let errors: Vec<_> = validator.iter_errors(&example).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].instance_path().as_str(),
        "",
        "the rule is about the whole body"
    );

    // Either list alone is fine, for the type and for the schema.
    for drop in ["dataSiloIds", "ignoreDataSiloIds"] {
        let mut one = example.clone();
        one.as_object_mut().unwrap().remove(drop);
        assert!(validator.is_valid(&one), "without {drop}");
        serde_json::from_value::<SubmitDsr>(one)
            .unwrap()
            .validate()
            .unwrap();
    }
}

#[test]
fn response_examples_round_trip() {
    // Transcend's whole answer: every field it always sends, read and written back.
    let response = round_trip::<SubmitDsrResponse>("submit_dsr_response.json");
    assert_eq!(
        response.request.attribute_values,
        [RequestAttributeValue::new("Source", "web")]
    );
    assert_eq!(response.request.country_sub_division, None);
    // The reference page's abridged example (no country, countrySubDivision or
    // attributeValues) still reads; written, it carries them, `null` or `[]`.
    let short = serde_json::json!({ "request": { "id": "da13d328-3f9d-40d5-9312-9f4fcf3ad0d2", "status": "COMPILING", "type": "ACCESS", "subjectType": "customer", "email": "user@example.com", "coreIdentifier": "id-123456789", "isSilent": true, "isTest": false, "replyToEmailAddresses": [], "link": "https://app.transcend.io/privacy-requests/incoming-requests/da13d328-3f9d-40d5-9312-9f4fcf3ad0d2" } });
    let response: SubmitDsrResponse = serde_json::from_value(short).unwrap();
    assert_eq!(response.request.status, RequestStatus::Compiling);
    let written = serde_json::to_value(&response).unwrap();
    assert_eq!(written["request"]["country"], serde_json::Value::Null);
    assert_eq!(
        written["request"]["countrySubDivision"],
        serde_json::Value::Null
    );
    assert_eq!(written["request"]["attributeValues"], serde_json::json!([]));
    let null_list: SubmitDsrResponse = serde_json::from_value(serde_json::json!({"request": {
        "id": "r", "status": "COMPILING", "type": "ACCESS", "subjectType": "customer",
        "email": null, "coreIdentifier": "c", "attributeValues": null
    }}))
    .unwrap();
    assert!(null_list.request.attribute_values.is_empty());
    let statuses = round_trip_all::<DsrStatus>("dsr_status");
    let found: Vec<RequestStatus> = statuses.into_iter().map(|(_, s)| s.status).collect();
    assert_eq!(
        found,
        [
            RequestStatus::Compiling,
            RequestStatus::Downloadable,
            RequestStatus::SecondaryCompleted
        ]
    );
}

#[test]
fn access_upload_examples_round_trip_and_validate() {
    let uploads = round_trip_all::<AccessUpload>("access_upload");
    for (name, upload) in &uploads {
        upload.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let by_name = |n: &str| {
        uploads
            .iter()
            .find(|(name, _)| name.contains(n))
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(by_name("not_found"), AccessUpload::not_found());
    assert_eq!(by_name("partial").status, None);
    assert_eq!(
        by_name("ready").profiles.unwrap()[0].profile_data["address"],
        Value::Null
    );
}

#[test]
fn erasure_examples_round_trip_and_validate() {
    let reports = round_trip_all::<ErasureReport>("erasure_report");
    assert_eq!(reports.len(), 8);
    for (name, report) in &reports {
        report.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let by_name = |n: &str| {
        reports
            .iter()
            .find(|(name, _)| name.ends_with(&format!(".{n}.json")))
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(by_name("erased"), ErasureReport::erased());
    assert_eq!(by_name("no_data"), ErasureReport::not_found());
    assert_eq!(
        by_name("error"),
        ErasureReport::error("Something went wrong! Please reach out to Bobby.")
    );
    assert_eq!(
        by_name("polling_retry_at"),
        ErasureReport::polling(
            "async-job-id-123",
            "The request has started processing and is polling for the DSR."
        )
        .retry_after(Timestamp::parse("2025-06-07T00:00:00.000Z").unwrap())
    );
}

#[test]
fn datapoint_examples_round_trip_and_validate() {
    round_trip::<DatapointChunk>("datapoint_chunk.json")
        .validate()
        .unwrap();
    let upload = round_trip::<DatapointUpload>("datapoint_upload.json");
    upload.validate().unwrap();
    assert_eq!(
        upload,
        DatapointUpload::new("profile_picture")
            .remote_id("photo-1.jpg")
            .skip_status_update(true)
    );
}

#[test]
fn the_webhook_job_example_round_trips() {
    let job = round_trip::<DsrJob>("dsr_job.json");
    assert_eq!(job.core_identifier(), Some("id-123456789"));
    assert_eq!(
        job.profile().unwrap().identifier_type,
        IdentifierType::Email
    );
    assert_eq!(
        job.request_id(),
        Some("da13d328-3f9d-40d5-9312-9f4fcf3ad0d2")
    );
}

#[test]
fn the_error_example_round_trips() {
    let body = round_trip::<ErrorBody>("error_body.duplicate.json");
    assert_eq!(
        body.message,
        "Client error: You have already made this request."
    );
}

#[test]
fn the_schema_refuses_what_validation_refuses() {
    let validator = jsonschema::validator_for(&schema_for::<SubmitDsr>()).unwrap();
    let mut body = fixture("submit_dsr.access.json");
    assert!(validator.is_valid(&body));
    body["subjectType"] = Value::from("");
    assert!(!validator.is_valid(&body), "minLength");
    body["subjectType"] = Value::from("customer");
    body["type"] = Value::from("TELEPORT");
    assert!(!validator.is_valid(&body), "closed enum");
    body["type"] = Value::from("ACCESS");
    body.as_object_mut().unwrap().remove("subject");
    assert!(!validator.is_valid(&body), "required");
}
