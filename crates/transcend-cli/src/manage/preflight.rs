//! `transcend request preflight pull-identifiers | push-identifiers`: enriching requests
//! by hand. Pull writes, for each request waiting in ENRICHING on an enricher, its
//! identifiers as CSV; a person fills in what they found; push sends each row as a
//! manual enrichment (`POST /v1/enrich-identifiers` with `x-transcend-request-id` and
//! `x-transcend-enricher-id`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use transcend_hyper::EnrichOutcome;
use transcend_hyper::admin::RequestEnricherStatus;
use transcend_hyper::proto::endpoint::enrich_identifiers::EnrichmentTarget;
use transcend_hyper::types::{EnrichIdentifiers, EnrichedIdentifier, IdentifierType};

use super::journal::Outcome;
use super::run::{Target, run};
use super::{RunArgs, Selection, client, settings};

/// `transcend request preflight …`.
#[derive(Debug, Subcommand)]
pub enum PreflightCommand {
    /// Writes, for each request waiting in ENRICHING on an enricher, its identifiers
    /// as CSV: requestId, enricherId, coreIdentifier, requestEmail, identifiers; add a
    /// column per identifier type found (`phone`, `email`, …) and push the file.
    PullIdentifiers(PullArgs),
    /// Sends each row of a CSV as a manual enrichment: the `requestId` and `enricherId`
    /// columns say which, every column named by an identifier type holds what was
    /// found (several values separated by `;`). "Cannot update a resolved
    /// RequestEnricher" counts as skipped.
    PushIdentifiers(PushArgs),
}

/// `transcend request preflight pull-identifiers`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// Only this enricher's requests.
    #[arg(long, alias = "enricherId")]
    pub enricher_id: Option<String>,
    #[command(flatten)]
    pub select: Selection,
    /// Where to write the CSV.
    #[arg(long, default_value = "transcend-preflight-identifiers.csv")]
    pub file: PathBuf,
}

/// `transcend request preflight push-identifiers`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The CSV to send.
    #[arg(long)]
    pub file: PathBuf,
    /// The enricher, for rows without an `enricherId` column.
    #[arg(long, alias = "enricherId")]
    pub enricher_id: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Runs a preflight command.
pub async fn preflight(command: PreflightCommand) -> Result<(), String> {
    match command {
        PreflightCommand::PullIdentifiers(args) => pull(args).await,
        PreflightCommand::PushIdentifiers(args) => push(args).await,
    }
}

async fn pull(args: PullArgs) -> Result<(), String> {
    let client = client()?;
    let mut out = csv::Writer::from_path(&args.file)
        .map_err(|e| format!("cannot write {}: {e}", args.file.display()))?;
    let fail = |e: csv::Error| format!("cannot write {}: {e}", args.file.display());
    out.write_record([
        "requestId",
        "enricherId",
        "coreIdentifier",
        "requestEmail",
        "identifiers",
    ])
    .map_err(fail)?;
    let mut rows = 0;
    let mut requests = std::pin::pin!(client.requests(args.select.filter(&["ENRICHING"])?));
    while let Some(request) = requests.try_next().await.map_err(|e| e.to_string())? {
        let parts: Vec<_> = client
            .request_enrichers(request.id())
            .try_collect()
            .await
            .map_err(|e| e.to_string())?;
        let identifiers: Vec<_> = client
            .request_identifiers(request.id())
            .try_collect()
            .await
            .map_err(|e| e.to_string())?;
        let joined = identifiers
            .iter()
            .map(|i| {
                let kind = i
                    .identifier_type
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                format!("{kind}:{}", i.value)
            })
            .collect::<Vec<_>>()
            .join("; ");
        for part in parts.iter().filter(|p| {
            !matches!(
                p.status,
                RequestEnricherStatus::Resolved | RequestEnricherStatus::Skipped
            ) && args
                .enricher_id
                .as_deref()
                .is_none_or(|id| id == p.enricher.id.inner())
        }) {
            out.write_record([
                request.id(),
                part.enricher.id.inner(),
                &request.core_identifier,
                request.email.as_deref().unwrap_or_default(),
                &joined,
            ])
            .map_err(fail)?;
            rows += 1;
        }
    }
    out.flush()
        .map_err(|e| format!("cannot write {}: {e}", args.file.display()))?;
    println!(
        "preflight pull-identifiers: {rows} enrichments to do in {}",
        args.file.display()
    );
    Ok(())
}

/// One row to push: the request, the enricher, what was found.
struct Row {
    request_id: String,
    enricher_id: String,
    found: EnrichIdentifiers,
}

fn rows(args: &PushArgs) -> Result<Vec<Row>, String> {
    let named = |e: csv::Error| format!("{}: {e}", args.file.display());
    let mut reader = csv::Reader::from_path(&args.file).map_err(named)?;
    let headers = reader.headers().map_err(named)?.clone();
    let column = |names: &[&str]| {
        headers.iter().position(|h| {
            let h: String = h.chars().filter(|c| !c.is_whitespace()).collect();
            names.iter().any(|n| h.eq_ignore_ascii_case(n))
        })
    };
    let request = column(&["requestId", "request_id"])
        .ok_or_else(|| format!("{}: no requestId column", args.file.display()))?;
    let enricher = column(&["enricherId", "enricher_id"]);
    if enricher.is_none() && args.enricher_id.is_none() {
        return Err(format!(
            "{}: no enricherId column; name the enricher with --enricher-id",
            args.file.display()
        ));
    }
    let types: Vec<(usize, IdentifierType)> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != enricher && *i != request)
        .filter_map(|(i, h)| {
            let kind = IdentifierType::parse(h.trim());
            (kind.is_known() && kind != IdentifierType::CoreIdentifier).then_some((i, kind))
        })
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(named)?;
        let mut found = EnrichIdentifiers::default();
        for (i, kind) in &types {
            for value in record.get(*i).unwrap_or_default().split(';') {
                let value = value.trim();
                if !value.is_empty() {
                    found = found.identifier(kind.clone(), EnrichedIdentifier::new(value));
                }
            }
        }
        rows.push(Row {
            request_id: record.get(request).unwrap_or_default().trim().to_owned(),
            enricher_id: enricher
                .and_then(|e| record.get(e))
                .map(|e| e.trim().to_owned())
                .or_else(|| args.enricher_id.clone())
                .unwrap_or_default(),
            found,
        });
    }
    Ok(rows)
}

async fn push(args: PushArgs) -> Result<(), String> {
    let rows = rows(&args)?;
    let settings = settings(
        "preflight push-identifiers",
        &args.run,
        &format!("{:?}{:?}", args.file, args.enricher_id),
        15,
    );
    let client = client()?;
    let client = &client;
    let targets = rows
        .iter()
        .map(|row| Target {
            id: format!("{}~{}", row.request_id, row.enricher_id),
            request_id: row.request_id.clone(),
            what: format!("enricher {}", row.enricher_id),
            silence_first: false,
        })
        .collect();
    let found: std::collections::HashMap<String, &Row> = rows
        .iter()
        .map(|row| (format!("{}~{}", row.request_id, row.enricher_id), row))
        .collect();
    let found = &found;
    run(&settings, targets, |target| async move {
        let Some(row) = found.get(&target.id) else {
            return Ok(Outcome::Skipped);
        };
        let target = EnrichmentTarget::Manual {
            request_id: row.request_id.clone(),
            enricher_id: row.enricher_id.clone(),
        };
        match client.enrich_identifiers(target, row.found.clone()).await? {
            EnrichOutcome::Applied => Ok(Outcome::Changed),
            _ => Ok(Outcome::Skipped),
        }
    })
    .await
    .map(drop)
}
