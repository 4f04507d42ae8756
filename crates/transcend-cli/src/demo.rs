//! `transcend demo`: the whole story on loopback. An emulated Sombra, a data silo
//! holding one person's data, and a backend that asks for that data and then for its
//! erasure. The silo verifies each signed webhook and reports JSON, a file and the
//! erasure; the demo checks that the emulator holds exactly what the silo sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use transcend_emulator::{
    ApiKeyConfig, DataSiloConfig, Emulator, EmulatorConfig, EnricherConfig, RequestView, Scope,
};
use transcend_hyper::silo::{Decision, EnrichmentDecision, SiloServer, WebhookVerifier};
use transcend_hyper::types::time::OffsetDateTime;
use transcend_hyper::types::{
    AccessProfile, DatapointUpload, IdentifierType, RequestAction, RequestStatus, Subject,
    SubmitDsr, Timestamp,
};
use transcend_hyper::{Client, DatapointSource, DownloadOptions, Nonce, WaitOptions};

const PERSON: &str = "ada@example.com";
/// The person's core identifier: the silo looks people up by it, the one field of a
/// webhook its signature covers.
const CORE: &str = "user-1815";
const SILO: &str = "users-db";
/// A cron (pull) silo: it gets no webhook and pulls its ERASURE jobs instead.
const WAREHOUSE: &str = "warehouse";
/// An enricher: it finds the person's phone number before any silo runs.
const ENRICHER: &str = "phone-lookup";
/// The phone number the enricher knows for the person.
const PHONE: &str = "+14155550100";

/// Something that happened, by whom, when (milliseconds since the demo started).
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at_ms: f64,
    pub actor: &'static str,
    pub what: String,
}

/// A check the demo makes at the end.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
}

/// Everything the demo did and found.
#[derive(Debug, Serialize)]
pub struct Report {
    pub ok: bool,
    pub events: Vec<Event>,
    pub checks: Vec<Check>,
    pub access: Option<RequestView>,
    pub erasure: Option<RequestView>,
}

struct Clock {
    start: OffsetDateTime,
    events: Mutex<Vec<Event>>,
}

impl Clock {
    fn log(&self, actor: &'static str, what: impl Into<String>) {
        let at_ms = (OffsetDateTime::now_utc() - self.start).as_seconds_f64() * 1000.0;
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Event {
                at_ms,
                actor,
                what: what.into(),
            });
    }

    fn at(&self, timestamp: &Timestamp) -> f64 {
        timestamp
            .to_datetime()
            .map(|t| (t - self.start).as_seconds_f64() * 1000.0)
            .unwrap_or_default()
    }
}

/// The person's data in the silo: a profile, orders, a photo.
struct Person {
    email: String,
    name: String,
    orders: serde_json::Value,
    photo: Vec<u8>,
}

fn photo() -> Vec<u8> {
    (0..96 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

pub async fn run() -> Result<Report, String> {
    let clock = Arc::new(Clock {
        start: OffsetDateTime::now_utc(),
        events: Mutex::new(Vec::new()),
    });
    let table: Arc<Mutex<HashMap<String, Person>>> = Arc::new(Mutex::new(HashMap::from([(
        CORE.to_owned(),
        Person {
            email: PERSON.into(),
            name: "Ada Lovelace".into(),
            orders: json!([{"id": "A-1", "total": 42}, {"id": "A-2", "total": 7}]),
            photo: photo(),
        },
    )])));
    let sent_photo_sha = hex(&Sha256::digest(photo()));

    // The silo binds first, so the emulator knows where to deliver.
    let silo_server = SiloServer::bind("127.0.0.1:0".parse().map_err(|e| format!("{e}"))?)
        .await
        .map_err(|e| e.to_string())?;
    let webhook_url = format!("http://{}/transcend/webhook", silo_server.addr());
    let enricher_server = SiloServer::bind("127.0.0.1:0".parse().map_err(|e| format!("{e}"))?)
        .await
        .map_err(|e| e.to_string())?;
    let enricher_url = format!("http://{}/transcend/enrich", enricher_server.addr());
    let mut config = EmulatorConfig::default();
    config.enrichers = vec![EnricherConfig::new(ENRICHER, enricher_url)];
    config.api_keys = vec![
        ApiKeyConfig::new("demo-backend", [Scope::Submit, Scope::View]),
        ApiKeyConfig::new("demo-silo", [Scope::Report]).for_silo(SILO),
        ApiKeyConfig::new("demo-warehouse", [Scope::Report]).for_silo(WAREHOUSE),
        ApiKeyConfig::new("demo-enricher", [Scope::Enrich]),
    ];
    config.data_silos = vec![
        DataSiloConfig::new(SILO, webhook_url).datapoints(["profile", "orders", "photo"]),
        DataSiloConfig::new(WAREHOUSE, "http://127.0.0.1:9/no-webhooks")
            .actions([RequestAction::Erasure])
            .pull(),
    ];
    config.webhooks.initial_backoff_ms = 20;
    let emulator = Emulator::builder()
        .config(config)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    clock.log(
        "emulator",
        format!(
            "Sombra emulated at {}, silo {SILO} registered",
            emulator.base_url()
        ),
    );

    let silo_client = Client::builder()
        .base_url(emulator.base_url())
        .api_key("demo-silo")
        .build()
        .map_err(|e| e.to_string())?;
    let verifier = WebhookVerifier::new(silo_client, SILO);
    let (silo_clock, silo_table) = (Arc::clone(&clock), Arc::clone(&table));
    let enricher_client = Client::builder()
        .base_url(emulator.base_url())
        .api_key("demo-enricher")
        .build()
        .map_err(|e| e.to_string())?;
    let enricher_clock = Arc::clone(&clock);
    let enricher = enricher_server.serve_enricher(
        WebhookVerifier::new(enricher_client, ENRICHER),
        move |job| {
            let clock = Arc::clone(&enricher_clock);
            async move {
                if job.identifier != CORE {
                    return EnrichmentDecision::NothingFound;
                }
                clock.log(
                    "enricher",
                    format!("verified the enrichment webhook for {}", job.identifier),
                );
                let reporter = job.reporter.clone();
                EnrichmentDecision::enrich(async move {
                    reporter.identifiers(IdentifierType::Phone, [PHONE]).await?;
                    clock.log("enricher", format!("added the phone number {PHONE}"));
                    Ok(())
                })
            }
        },
    );
    let silo = silo_server.serve(verifier, move |job| {
        let (clock, table) = (Arc::clone(&silo_clock), Arc::clone(&silo_table));
        async move {
            let id = job.request_id().unwrap_or_default().to_owned();
            clock.log(
                "silo",
                format!(
                    "verified the {} webhook for request {} (ES384, aud {SILO})",
                    job.action,
                    short(&id)
                ),
            );
            let reporter = job.reporter.clone();
            match job.action {
                RequestAction::Access => {
                    let Some((email, name, orders, photo)) = table
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(&job.core_identifier)
                        .map(|p| {
                            (
                                p.email.clone(),
                                p.name.clone(),
                                p.orders.clone(),
                                p.photo.clone(),
                            )
                        })
                    else {
                        return Decision::NotFound;
                    };
                    Decision::found(async move {
                        let profile = AccessProfile::new(&email)
                            .datapoint("profile", json!({"name": name, "email": email}))
                            .datapoint("orders", orders);
                        reporter.access_partial(vec![profile]).await?;
                        clock.log("silo", "reported the datapoints profile and orders as JSON");
                        let upload = DatapointUpload::new("photo").remote_id("ada.jpg");
                        reporter.file(upload, DatapointSource::bytes(photo)).await?;
                        clock.log("silo", "uploaded the file ada.jpg to the datapoint photo");
                        Ok(())
                    })
                }
                RequestAction::Erasure => {
                    let Some(erased) = table
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&job.core_identifier)
                    else {
                        return Decision::NotFound;
                    };
                    let email = erased.email;
                    Decision::found(async move {
                        reporter.erased().await?;
                        clock.log("silo", format!("erased {email} and confirmed it"));
                        Ok(())
                    })
                }
                _ => Decision::NotFound,
            }
        }
    });

    let backend = Client::builder()
        .base_url(emulator.base_url())
        .api_key("demo-backend")
        .build()
        .map_err(|e| e.to_string())?;
    // The warehouse pulls its jobs now and then, and completes each.
    let warehouse_client = Client::builder()
        .base_url(emulator.base_url())
        .api_key("demo-warehouse")
        .build()
        .map_err(|e| e.to_string())?;
    let warehouse_clock = Arc::clone(&clock);
    let warehouse = tokio::spawn(async move {
        let mut completed = 0usize;
        for _ in 0..3000 {
            let jobs: Vec<_> = warehouse_client
                .pending_requests(WAREHOUSE, RequestAction::Erasure, 100)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .filter_map(Result::ok)
                .collect();
            if !jobs.is_empty() {
                for job in &jobs {
                    warehouse_clock.log(
                        "cron",
                        format!(
                            "pulled the ERASURE job for {} and erased the rows",
                            job.identifier
                        ),
                    );
                }
                let nonces: Vec<Nonce> = jobs.iter().map(|j| j.nonce.clone()).collect();
                let summary = warehouse_client.complete_jobs(nonces, 4, |_, _| {}).await;
                completed += summary.completed;
                warehouse_clock.log(
                    "cron",
                    format!("completed {} job(s) with their nonces", summary.completed),
                );
                return completed;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        completed
    });

    let wait = |status| {
        WaitOptions::until([status])
            .timeout(Duration::from_secs(30))
            .interval(Duration::from_millis(10), Duration::from_millis(100))
    };
    let subject = || Subject::new(CORE).email(PERSON);

    let access = backend
        .submit_dsr(&SubmitDsr::new(
            RequestAction::Access,
            subject(),
            "customer",
        ))
        .await
        .map_err(|e| e.to_string())?;
    let access_id = access.request.id.clone();
    clock.log(
        "backend",
        format!(
            "submitted ACCESS request {} for {PERSON}",
            short(&access_id)
        ),
    );
    let access_done = backend
        .wait_for_dsr(&access_id, wait(RequestStatus::Downloadable))
        .await
        .map_err(|e| e.to_string())?;
    clock.log(
        "backend",
        format!("request {} is {}", short(&access_id), access_done.status),
    );
    let report_dir = std::env::temp_dir().join(format!(
        "transcend-demo-report-{}-{}",
        std::process::id(),
        OffsetDateTime::now_utc().unix_timestamp_nanos()
    ));
    let report = backend
        .download_report(&access_id, &report_dir, DownloadOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    clock.log(
        "backend",
        format!(
            "downloaded the access report: {} files, {} bytes, manifest with sha256",
            report.files.len(),
            report.files.iter().map(|f| f.size).sum::<u64>()
        ),
    );
    let read = |data_point: &str| {
        report
            .files
            .iter()
            .find(|f| f.data_point.as_deref() == Some(data_point))
            .and_then(|f| std::fs::read(report_dir.join(&f.file)).ok())
    };
    let json_of = |data_point: &str| {
        read(data_point).and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
    };
    let report_matches = report.is_complete()
        && report.files.len() == 3
        && read("photo") == Some(photo())
        && json_of("profile") == Some(json!({"name": "Ada Lovelace", "email": PERSON}))
        && json_of("orders")
            == Some(json!([{"id": "A-1", "total": 42}, {"id": "A-2", "total": 7}]));
    let _ = std::fs::remove_dir_all(&report_dir);

    let erasure = backend
        .submit_dsr(&SubmitDsr::new(
            RequestAction::Erasure,
            subject(),
            "customer",
        ))
        .await
        .map_err(|e| e.to_string())?;
    let erasure_id = erasure.request.id.clone();
    clock.log(
        "backend",
        format!(
            "submitted ERASURE request {} for {PERSON}",
            short(&erasure_id)
        ),
    );
    let erasure_done = backend
        .wait_for_dsr(&erasure_id, wait(RequestStatus::SecondaryCompleted))
        .await
        .map_err(|e| e.to_string())?;
    clock.log(
        "backend",
        format!("request {} is {}", short(&erasure_id), erasure_done.status),
    );

    let warehouse_completed = warehouse.await.unwrap_or_default();
    let access_view = emulator.request(&access_id);
    let erasure_view = emulator.request(&erasure_id);
    for view in access_view.iter().chain(erasure_view.iter()) {
        for change in &view.timeline {
            let what = format!(
                "request {} ({}) is {}",
                short(&view.id),
                view.action,
                change.status
            );
            clock
                .events
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Event {
                    at_ms: clock.at(&change.at),
                    actor: "emulator",
                    what,
                });
        }
        for job in &view.jobs {
            for delivery in &job.deliveries {
                let what = format!(
                    "delivered the {} webhook to {} (attempt {}): {}",
                    view.action, job.data_silo_id, delivery.attempt, delivery.outcome
                );
                clock
                    .events
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Event {
                        at_ms: clock.at(&delivery.at),
                        actor: "emulator",
                        what,
                    });
            }
        }
    }

    let file = access_view
        .as_ref()
        .and_then(|v| v.jobs.first())
        .and_then(|j| j.files.first())
        .cloned();
    let received_profile = access_view
        .as_ref()
        .and_then(|v| v.jobs.first())
        .and_then(|j| j.profiles.first())
        .cloned();
    let warehouse_job = erasure_view
        .as_ref()
        .and_then(|v| v.jobs.iter().find(|j| j.data_silo_id == WAREHOUSE))
        .cloned();
    let enriched = access_view.as_ref().is_some_and(|v| {
        v.enriched_identifiers.iter().any(|i| i.value == PHONE)
            && v.timeline
                .iter()
                .position(|c| c.status == RequestStatus::Enriching)
                < v.timeline
                    .iter()
                    .position(|c| c.status == RequestStatus::Compiling)
    });
    let checks = vec![
        Check {
            name: "the enricher added the person's phone number before any silo ran".into(),
            ok: enriched,
        },
        Check {
            name: "the cron silo pulled its ERASURE job, without a webhook, and completed it"
                .into(),
            ok: warehouse_completed == 1
                && warehouse_job.is_some_and(|j| {
                    j.deliveries.is_empty() && j.status == transcend_emulator::JobStatus::Resolved
                }),
        },
        Check {
            name: "the backend downloaded the access report, byte for byte what the silo sent"
                .into(),
            ok: report_matches,
        },
        Check {
            name: "the ACCESS request reached DOWNLOADABLE".into(),
            ok: access_done.status == RequestStatus::Downloadable,
        },
        Check {
            name: "the ERASURE request reached SECONDARY_COMPLETED".into(),
            ok: erasure_done.status == RequestStatus::SecondaryCompleted,
        },
        Check {
            name: format!(
                "the emulator holds the file the silo sent (sha256 {})",
                &sent_photo_sha[..16]
            ),
            ok: file.as_ref().is_some_and(|f| {
                f.sha256 == sent_photo_sha
                    && f.size == photo().len() as u64
                    && f.datapoint == "photo"
            }),
        },
        Check {
            name: "the emulator holds the JSON datapoints the silo sent".into(),
            ok: received_profile.is_some_and(|p| {
                p.profile_id.as_deref() == Some(PERSON)
                    && p.profile_data.get("profile")
                        == Some(&json!({"name": "Ada Lovelace", "email": PERSON}))
                    && p.profile_data.get("orders")
                        == Some(&json!([{"id": "A-1", "total": 42}, {"id": "A-2", "total": 7}]))
            }),
        },
        Check {
            name: "the silo confirmed the erasure and no longer holds the person".into(),
            ok: erasure_view
                .as_ref()
                .is_some_and(|v| v.jobs.iter().any(|j| j.reports.len() == 1))
                && !table
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .contains_key(CORE),
        },
    ];
    silo.shutdown().await;
    enricher.shutdown().await;
    emulator.shutdown().await;

    let mut events = clock
        .events
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    events.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    Ok(Report {
        ok: checks.iter().all(|c| c.ok),
        events,
        checks,
        access: access_view,
        erasure: erasure_view,
    })
}

/// The report as a readable timeline.
pub fn print(report: &Report) {
    println!(
        "transcend demo: an ACCESS and an ERASURE request, through an emulated Sombra, an enricher, a data silo and a cron silo\n"
    );
    for event in &report.events {
        println!(
            "{:>8.1} ms  {:<8}  {}",
            event.at_ms, event.actor, event.what
        );
    }
    println!();
    for check in &report.checks {
        println!(
            "  {} {}",
            if check.ok { "ok  " } else { "FAIL" },
            check.name
        );
    }
    println!(
        "\n{}",
        if report.ok {
            "all checks passed"
        } else {
            "some checks failed"
        }
    );
}
