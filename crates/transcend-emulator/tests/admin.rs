//! The admin API end to end: the SDK's client against the emulator's GraphQL server.
//! Approving, cancelling, holding, extending, the silos' and enrichers' parts,
//! identifiers, templates, the organization's Sombra, a cursor walk while requests
//! change, and the errors Transcend's tooling knows.

mod common;

use std::collections::HashSet;

use common::{TestSilo, eventually, raw};
use futures_util::TryStreamExt;
use transcend_emulator::{
    ApiKeyConfig, DataSiloConfig, Emulator, EmulatorConfig, EnricherConfig, LifecycleConfig,
    RateLimitConfig, Scope,
};
use transcend_hyper::admin::{
    RequestDataSiloFilters, RequestEnricherStatus, RequestFilters, RequestOrigin, RequestStatus,
    UpdateRequestDataSiloStatus, VisualRequestDataSiloStatus,
};
use transcend_hyper::proto::endpoint::enrich_identifiers::EnrichmentTarget;
use transcend_hyper::proto::webhook::JobAnswer;
use transcend_hyper::types::{
    EnrichIdentifiers, EnrichedIdentifier, ErasureReport, IdentifierType, RequestAction,
    RequestStatus as Status, Subject, SubmitDsr,
};
use transcend_hyper::{Client, EnrichOutcome, ErrorKind, GraphQlErrorKind, http};

fn admin(emulator: &Emulator) -> Client {
    admin_with_key(emulator, &emulator.api_key())
}

fn admin_with_key(emulator: &Emulator, key: &str) -> Client {
    Client::builder()
        .base_url(emulator.base_url())
        .backend_url(emulator.base_url())
        .api_key(key)
        .build()
        .unwrap()
}

fn dsr(action: RequestAction, core: &str) -> SubmitDsr {
    SubmitDsr::new(
        action,
        Subject::new(core).email(format!("{core}@example.com")),
        "customer",
    )
}

fn approval() -> LifecycleConfig {
    let mut lifecycle = LifecycleConfig::default();
    lifecycle.approval = true;
    lifecycle
}

async fn start(config: EmulatorConfig) -> Emulator {
    Emulator::builder().config(config).start().await.unwrap()
}

fn with_lifecycle(lifecycle: LifecycleConfig) -> EmulatorConfig {
    let mut config = EmulatorConfig::default();
    config.lifecycle = lifecycle;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_from_approving_only_and_the_request_completes() {
    let emulator = start(with_lifecycle(approval())).await;
    let client = admin(&emulator);
    let id = client
        .submit_dsr(&dsr(RequestAction::ContactOptOut, "p1"))
        .await
        .unwrap()
        .request
        .id;
    // No silo: the request waits for approval at once.
    let waiting: Vec<_> = client
        .requests(RequestFilters::new().status([RequestStatus::Approving]))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].id(), id);
    assert_eq!(waiting[0].origin, RequestOrigin::Api);
    assert_eq!(waiting[0].days_remaining, Some(30));

    let approved = client.approve_request(&id, None).await.unwrap();
    assert_eq!(approved.status, RequestStatus::Completed);
    assert_eq!(
        approved.days_remaining, None,
        "a finished request has no deadline"
    );
    assert!(approved.successfully_completed_at.is_some());

    let again = client.approve_request(&id, None).await.unwrap_err();
    assert!(again.is_already_done(), "{again}");
    assert_eq!(
        again.message(),
        Some("Request must be in an approving state")
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_hold_resume_silent_and_more_time() {
    let emulator = start(with_lifecycle(approval())).await;
    let client = admin(&emulator);
    let a = client
        .submit_dsr(&dsr(RequestAction::Access, "p1"))
        .await
        .unwrap()
        .request
        .id;
    let b = client
        .submit_dsr(&dsr(RequestAction::Access, "p2"))
        .await
        .unwrap()
        .request
        .id;

    // Hold and resume: back where it was.
    let held = client.place_request_on_hold(&a).await.unwrap();
    assert_eq!(held.status, RequestStatus::OnHold);
    let again = client.place_request_on_hold(&a).await.unwrap_err();
    assert_eq!(again.kind(), Some(ErrorKind::BadRequest), "{again}");
    let resumed = client.resume_request(&a).await.unwrap();
    assert_eq!(resumed.status, RequestStatus::Approving);

    // More time: daysRemaining grows, the person is told.
    let cancel = client
        .template_by_title("Request Canceled")
        .await
        .unwrap()
        .expect("a default template");
    let more = client
        .template_by_title("Additional Time Needed")
        .await
        .unwrap()
        .unwrap();
    client
        .notify_additional_time(&a, 45, Some(&more))
        .await
        .unwrap();
    assert_eq!(client.request(&a).await.unwrap().days_remaining, Some(75));
    let timeline = emulator.request(&a).unwrap().timeline;
    assert!(
        timeline.iter().any(|c| c
            .note
            .as_deref()
            .is_some_and(|n| n.contains("Re: Your privacy request needs more time"))),
        "{timeline:?}"
    );

    // Silent, then cancelled: no e-mail for a silent request.
    let silent = client.mark_silent(&b).await.unwrap();
    assert!(silent.is_silent);
    let canceled = client.cancel_request(&b, Some(&cancel)).await.unwrap();
    assert_eq!(canceled.status, RequestStatus::Canceled);
    let notes: Vec<_> = emulator
        .request(&b)
        .unwrap()
        .timeline
        .into_iter()
        .filter_map(|c| c.note)
        .collect();
    assert_eq!(notes, ["marked silent"]);
    let twice = client.cancel_request(&b, None).await.unwrap_err();
    assert_eq!(twice.graphql().unwrap().kind, GraphQlErrorKind::Invalid);
    let silent_ones: Vec<_> = client
        .requests(RequestFilters::new().is_silent(true))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(silent_ones.len(), 1);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_silos_are_resolved_skipped_and_retried_and_the_request_moves_on() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let mut config = EmulatorConfig::default();
    config.data_silos = vec![
        DataSiloConfig::new("users-db", &silo.url),
        DataSiloConfig::new("billing", &silo.url),
    ];
    let emulator = start(config).await;
    let client = admin(&emulator);
    let id = client
        .submit_dsr(&dsr(RequestAction::Erasure, "p1"))
        .await
        .unwrap()
        .request
        .id;
    silo.wait_for(2).await;
    eventually(&emulator, &id, |v| {
        v.jobs
            .iter()
            .all(|j| j.status == transcend_emulator::JobStatus::Waiting)
    })
    .await;

    let parts: Vec<_> = client
        .request_data_silos(RequestDataSiloFilters::request(&id))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(parts.len(), 2);
    assert!(
        parts
            .iter()
            .all(|p| p.status == VisualRequestDataSiloStatus::Waiting)
    );
    let billing = parts
        .iter()
        .find(|p| p.data_silo.id.inner() == "billing")
        .unwrap();
    let users = parts
        .iter()
        .find(|p| p.data_silo.id.inner() == "users-db")
        .unwrap();

    // Retry: a new webhook for that silo.
    let retried = client
        .retry_request_data_silo(users.id.inner())
        .await
        .unwrap();
    assert_eq!(retried.request.id.inner(), id);
    silo.wait_for(3).await;

    client
        .change_request_data_silo_status(billing.id.inner(), UpdateRequestDataSiloStatus::Skipped)
        .await
        .unwrap();
    assert_eq!(
        client.request(&id).await.unwrap().status,
        RequestStatus::Compiling
    );
    let resolved = client
        .change_request_data_silo_status(users.id.inner(), UpdateRequestDataSiloStatus::Resolved)
        .await
        .unwrap();
    assert_eq!(resolved.status, VisualRequestDataSiloStatus::Resolved);
    // Every part settled: the erasure finishes.
    assert_eq!(
        client.request(&id).await.unwrap().status,
        RequestStatus::SecondaryCompleted
    );
    let view = emulator.request(&id).unwrap();
    assert!(
        view.timeline
            .iter()
            .any(|c| c.note.as_deref() == Some("data silo billing set to Skipped by hand")),
        "{:?}",
        view.timeline
    );
    // The silo's late report for a finished job is 409, as Sombra answers.
    let late = silo.wait_for(3).await.remove(2);
    let report = transcend_hyper::Client::builder()
        .base_url(emulator.base_url())
        .api_key(emulator.api_key())
        .max_attempts(1)
        .build()
        .unwrap()
        .report_erasure(&late.nonce, &ErasureReport::erased())
        .await
        .unwrap_err();
    assert_eq!(report.kind(), Some(ErrorKind::Conflict));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrichers_are_retried_and_skipped_and_manual_ones_enriched_by_hand() {
    let failing = TestSilo::start(|_| JobAnswer::Failed {
        status: http::StatusCode::INTERNAL_SERVER_ERROR,
        message: None,
    })
    .await;
    let mut config = EmulatorConfig::default();
    config.webhooks.max_attempts = 1;
    config.enrichers = vec![
        EnricherConfig::new("flaky", &failing.url),
        EnricherConfig::manual("by-hand"),
    ];
    let emulator = start(config).await;
    let client = admin(&emulator);
    let id = client
        .submit_dsr(&dsr(RequestAction::Access, "p1"))
        .await
        .unwrap()
        .request
        .id;
    eventually(&emulator, &id, |v| {
        v.enrichers
            .iter()
            .any(|e| e.status == transcend_emulator::EnricherStatus::DeliveryFailed)
    })
    .await;
    let parts: Vec<_> = client.request_enrichers(&id).try_collect().await.unwrap();
    assert_eq!(parts.len(), 2);
    let flaky = parts
        .iter()
        .find(|p| p.enricher.id.inner() == "flaky")
        .unwrap();
    let by_hand = parts
        .iter()
        .find(|p| p.enricher.id.inner() == "by-hand")
        .unwrap();
    assert_eq!(flaky.status, RequestEnricherStatus::Error);
    assert_eq!(by_hand.status, RequestEnricherStatus::Waiting);

    // Retried: a new webhook.
    let before = failing.wait_for(1).await.len();
    client
        .retry_request_enricher(flaky.id.inner())
        .await
        .unwrap();
    failing.wait_for(before + 1).await;
    // An enricher whose webhook failed still takes a manual enrichment.
    let enrichment = EnrichIdentifiers::default().identifier(
        IdentifierType::Phone,
        EnrichedIdentifier::new("+14155550100"),
    );
    let outcome = client
        .enrich_identifiers(
            EnrichmentTarget::Manual {
                request_id: id.clone(),
                enricher_id: "flaky".into(),
            },
            enrichment,
        )
        .await
        .unwrap();
    assert_eq!(outcome, EnrichOutcome::Applied);
    // Skipping the one a person had to work finishes enrichment.
    let skipped = client
        .skip_request_enricher(by_hand.id.inner())
        .await
        .unwrap();
    assert_eq!(skipped.status, RequestEnricherStatus::Skipped);
    let done = eventually(&emulator, &id, |v| v.status == Status::Downloadable).await;
    assert_eq!(done.enriched_identifiers.len(), 1);
    let again = client
        .skip_request_enricher(by_hand.id.inner())
        .await
        .unwrap_err();
    assert!(again.is_already_done(), "{again}");

    // The enriched phone was never verified: it can be removed.
    let identifiers: Vec<_> = client
        .admin_request_identifiers(&id)
        .try_collect()
        .await
        .unwrap();
    let unverified: Vec<_> = identifiers
        .iter()
        .filter(|i| !i.is_verified_at_least_once)
        .collect();
    assert_eq!(unverified.len(), 1);
    assert_eq!(unverified[0].value, "+14155550100");
    let removed = client
        .remove_request_identifiers(&id, &[unverified[0].id.inner()])
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let left: Vec<_> = client.request_identifiers(&id).try_collect().await.unwrap();
    assert!(left.iter().all(|i| i.value != "+14155550100"), "{left:?}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_walk_while_requests_change_neither_skips_nor_repeats_one() {
    let emulator = start(with_lifecycle(approval())).await;
    let client = admin(&emulator);
    let mut before = HashSet::new();
    for n in 0..230 {
        let id = client
            .submit_dsr(&dsr(RequestAction::ContactOptOut, &format!("p{n}")))
            .await
            .unwrap()
            .request
            .id;
        before.insert(id);
    }
    let mut seen = HashSet::new();
    let mut walk = std::pin::pin!(client.requests(RequestFilters::new()));
    let mut n = 0;
    while let Some(request) = walk.try_next().await.unwrap() {
        assert!(
            seen.insert(request.id().to_owned()),
            "{} twice",
            request.id()
        );
        n += 1;
        if n % 50 == 0 {
            // Requests change under the walk: approved, made silent, new ones made.
            let some: Vec<String> = before.iter().take(3).cloned().collect();
            for id in &some {
                let _ = client.approve_request(id, None).await;
                let _ = client.mark_silent(id).await;
            }
            client
                .submit_dsr(&dsr(RequestAction::ContactOptOut, &format!("late{n}")))
                .await
                .unwrap();
        }
    }
    assert!(
        before.is_subset(&seen),
        "{} missed",
        before.difference(&seen).count()
    );
    assert_eq!(
        client.count_requests(&RequestFilters::new()).await.unwrap() as usize,
        234
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_typed_keys_and_scopes_checked_and_rate_limits_waited_for() {
    let mut config = EmulatorConfig::default();
    config.api_keys = vec![
        ApiKeyConfig::new("admin-key", Scope::ALL),
        ApiKeyConfig::new("viewer", [Scope::View, Scope::Submit]),
    ];
    config.rate_limit = Some(RateLimitConfig::new(20.0, 2));
    let emulator = start(config).await;

    // An unknown field: a validation error, 400, never retried.
    let (status, _, body) = raw(
        &emulator,
        "POST",
        "/graphql",
        &[
            ("authorization", "Bearer admin-key"),
            ("content-type", "application/json"),
        ],
        r#"{"query":"{ nope }"}"#,
    )
    .await;
    assert_eq!(status.as_u16(), 400);
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    let (status, _, body) = raw(
        &emulator,
        "POST",
        "/graphql",
        &[("authorization", "Bearer admin-key")],
        r#"{"query":"{ requests { "}"#,
    )
    .await;
    assert_eq!(status.as_u16(), 400);
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_PARSE_FAILED"
    );

    // A wrong key, and a key without the scope.
    let wrong = admin_with_key(&emulator, "wrong")
        .request("x")
        .await
        .unwrap_err();
    assert_eq!(wrong.kind(), Some(ErrorKind::Unauthorized));
    assert!(!wrong.to_string().contains("wrong"), "{wrong}");
    let viewer = admin_with_key(&emulator, "viewer");
    let id = viewer
        .submit_dsr(&dsr(RequestAction::Access, "p1"))
        .await
        .unwrap()
        .request
        .id;
    let refused = viewer.place_request_on_hold(&id).await.unwrap_err();
    assert_eq!(refused.kind(), Some(ErrorKind::Unauthorized), "{refused}");
    assert!(
        refused
            .message()
            .unwrap()
            .contains("Manage Request Compilation")
    );

    // Over the rate: the raw answer says so with x-ratelimit-reset; the client waits
    // for it and every call succeeds.
    let client = admin_with_key(&emulator, "admin-key");
    let mut limited = None;
    for _ in 0..10 {
        let (status, headers, body) = raw(
            &emulator,
            "POST",
            "/graphql",
            &[("authorization", "Bearer admin-key")],
            r#"{"query":"{ organization { sombra { id } } }"}"#,
        )
        .await;
        if body["errors"][0]["message"] == "Too many requests" {
            limited = Some((status, headers));
            break;
        }
    }
    let (status, headers) = limited.expect("the rate limit answers");
    assert_eq!(status.as_u16(), 200);
    assert!(headers.contains_key("x-ratelimit-reset"));
    for _ in 0..8 {
        client.request(&id).await.unwrap();
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organizations_sombra_is_the_emulator_and_transcends_startup_queries_answer() {
    let emulator = Emulator::builder().start().await.unwrap();
    let backend_only = Client::builder()
        .backend_url(emulator.base_url())
        .api_key(emulator.api_key())
        .build()
        .unwrap();
    let organization = backend_only.organization().await.unwrap();
    assert_eq!(organization.sombra.customer_url, emulator.base_url());
    let client = backend_only.with_discovered_sombra().await.unwrap();
    assert_eq!(client.config().base_url(), emulator.base_url());
    client
        .submit_dsr(&dsr(RequestAction::Access, "p1"))
        .await
        .unwrap();

    let subjects = client
        .admin::<transcend_hyper::admin::InternalSubjects>(&())
        .await
        .unwrap();
    assert_eq!(subjects[0].kind, "customer");
    let initializer = client
        .admin::<transcend_hyper::admin::Initializer>(&())
        .await
        .unwrap();
    assert!(initializer.identifiers.iter().any(|i| i.name == "email"));
    let open = client
        .admin::<transcend_hyper::admin::ListReducedRequestsForDataSilo>(
            &transcend_hyper::admin::BulkCompletionReducedRequestInput::open("nobody"),
        )
        .await
        .unwrap();
    assert_eq!(open, 0);
    let templates = client.templates("").await.unwrap();
    assert_eq!(templates.len(), 2);
    emulator.shutdown().await;
}

/// `organization { sombra { version } aiSetting { … } }` answers the configuration: by
/// default Sombra 7.180.0 with both AI flags on; a configured version and flags off to
/// rehearse a tool's refusal.
#[tokio::test]
async fn the_organization_answers_its_sombra_version_and_ai_setting() {
    let default = Emulator::builder().start().await.unwrap();
    let organization = admin(&default).organization().await.unwrap();
    assert_eq!(
        organization.sombra.version.as_deref(),
        Some(transcend_emulator::DEFAULT_SOMBRA_VERSION)
    );
    let ai = organization.ai_setting.unwrap();
    assert!(ai.is_ai_enabled && ai.is_mcp_sombra_enabled);
    default.shutdown().await;

    let config = EmulatorConfig::from_toml(
        "[admin]\nsombra_version = \"7.179.0\"\n[admin.ai_setting]\nis_mcp_sombra_enabled = false\n",
    )
    .unwrap();
    let configured = Emulator::builder().config(config).start().await.unwrap();
    let organization = admin(&configured).organization().await.unwrap();
    assert_eq!(organization.sombra.version.as_deref(), Some("7.179.0"));
    let ai = organization.ai_setting.unwrap();
    assert!(ai.is_ai_enabled && !ai.is_mcp_sombra_enabled);
    configured.shutdown().await;
}

/// What Transcend's MCP server selects: a request's owners and teams, a silo part's
/// link, details and last error (from its last failed delivery), the silo's owners,
/// teams, type and liveness, and `cancelRequest`'s `clientMutationId`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_teams_and_a_silo_parts_error_details_and_link() {
    let failing = TestSilo::start(|_| JobAnswer::Failed {
        status: http::StatusCode::SERVICE_UNAVAILABLE,
        message: Some("database down".into()),
    })
    .await;
    let mut config = EmulatorConfig::from_toml(
        r#"
[[admin.users]]
id = "u-1"
name = "Ada Lovelace"
email = "ada@example.com"
[[admin.teams]]
id = "t-1"
name = "Privacy"
"#,
    )
    .unwrap();
    config.webhooks.max_attempts = 1;
    config.data_silos = vec![DataSiloConfig::new("users-db", &failing.url)];
    let emulator = start(config).await;
    let client = admin(&emulator);
    let id = client
        .submit_dsr(&dsr(RequestAction::Access, "p1"))
        .await
        .unwrap()
        .request
        .id;
    let request = client.request(&id).await.unwrap();
    assert_eq!(request.owners.len(), 1);
    assert_eq!(
        (
            request.owners[0].id.inner(),
            request.owners[0].name.as_str(),
            request.owners[0].email.as_str()
        ),
        ("u-1", "Ada Lovelace", "ada@example.com")
    );
    assert_eq!(
        (request.teams[0].id.inner(), request.teams[0].name.as_str()),
        ("t-1", "Privacy")
    );

    failing.wait_for(1).await;
    eventually(&emulator, &id, |v| {
        v.jobs[0].status == transcend_emulator::JobStatus::DeliveryFailed
    })
    .await;
    let parts: Vec<_> = client
        .request_data_silos(RequestDataSiloFilters::request(&id))
        .try_collect()
        .await
        .unwrap();
    let part = &parts[0];
    assert!(
        part.link.contains(&id) && part.link.ends_with("/data-silos/users-db"),
        "{}",
        part.link
    );
    assert!(part.details.contains("users-db"), "{}", part.details);
    let error = part.error.as_deref().unwrap_or_default();
    assert!(error.contains("503"), "{error}");

    // The silo's owners, teams, type and liveness, and cancelRequest's clientMutationId,
    // as Transcend's MCP server asks for them.
    let query = r#"{"query":"{ requestDataSilos(filterBy: {requestId: \"ID\"}) { nodes { dataSilo { type outerType isLive owners { id name email } teams { id name } } } } }"}"#
        .replace("ID", &id);
    let key = format!("Bearer {}", emulator.api_key());
    let headers = [
        ("authorization", key.as_str()),
        ("content-type", "application/json"),
    ];
    let (status, _, answer) = raw(&emulator, "POST", "/graphql", &headers, &query).await;
    assert_eq!(status, 200, "{answer}");
    let silo = &answer["data"]["requestDataSilos"]["nodes"][0]["dataSilo"];
    assert_eq!(silo["type"], "server", "{answer}");
    assert_eq!(silo["isLive"], true);
    assert!(silo["outerType"].is_null());
    assert_eq!(silo["owners"][0]["email"], "ada@example.com");
    assert_eq!(silo["teams"][0]["name"], "Privacy");
    let cancel = r#"{"query":"mutation { cancelRequest(input: {requestId: \"ID\"}) { clientMutationId request { id status } } }"}"#
        .replace("ID", &id);
    let (status, _, answer) = raw(&emulator, "POST", "/graphql", &headers, &cancel).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["errors"].is_null(), "{answer}");
    assert!(answer["data"]["cancelRequest"]["clientMutationId"].is_null());
    assert_eq!(
        answer["data"]["cancelRequest"]["request"]["status"],
        "CANCELED"
    );
    emulator.shutdown().await;
}
