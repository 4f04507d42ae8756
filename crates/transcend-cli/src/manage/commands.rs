//! Each bulk command: how it finds what to change, and the one call that changes it.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use futures_util::{StreamExt, TryStreamExt};
use transcend_hyper::Client;
use transcend_hyper::admin::{
    self, RequestDataSiloFilters, RequestEnricherStatus, RequestFilters, RequestStatus,
    UpdateRequestDataSiloStatus, VisualRequestDataSiloStatus,
};

use super::journal::Outcome;
use super::run::{Target, run, run_stream};
use super::{OPEN_STATUSES, RunArgs, Selection, client, settings};

/// A privacy team's bulk commands on requests.
#[derive(Debug, Subcommand)]
pub enum ManageCommand {
    /// Approves every request waiting in APPROVING (concurrency 50); "must be in an
    /// approving state" counts as already done.
    Approve(ApproveArgs),
    /// Cancels requests (by default every open one matching the filters), e-mailing
    /// the person a template's text (concurrency 50).
    Cancel(CancelArgs),
    /// Makes requests silent: the person gets no more e-mail (concurrency 50).
    MarkSilent(MarkSilentArgs),
    /// Extends the deadline of every request about to miss it and tells the person
    /// (concurrency 100); a rerun extends no request twice.
    NotifyAdditionalTime(NotifyArgs),
    /// Runs an enricher again for every request waiting on it in ENRICHING
    /// (concurrency 15).
    EnricherRestart(EnricherRestartArgs),
    /// Skips enrichers (preflight checks) of requests in ENRICHING; "already
    /// completed" counts as already done.
    SkipPreflightJobs(SkipPreflightArgs),
    /// Removes the identifiers of requests that were never verified (concurrency 20).
    RejectUnverifiedIdentifiers(RejectArgs),
}

/// `transcend request system …`: unsticking requests' data silos.
#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Marks a data silo's part of each request of a file as resolved (concurrency 100).
    MarkRequestDataSilosCompleted(MarkCompletedArgs),
    /// Runs a data silo's job again for every request waiting on it (concurrency 20).
    RetryRequestDataSilos(RetrySilosArgs),
    /// Skips (or resolves) a data silo's part of every request waiting on it
    /// (concurrency 50).
    SkipRequestDataSilos(SkipSilosArgs),
}

/// `transcend request approve`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    #[command(flatten)]
    pub select: Selection,
    /// Makes requests made before this time silent before approving them.
    #[arg(long, alias = "silentModeBefore")]
    pub silent_mode_before: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `transcend request cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    #[command(flatten)]
    pub select: Selection,
    /// The title of the e-mail template sent to the person.
    #[arg(long, alias = "cancellationTitle", default_value = "Request Canceled")]
    pub cancellation_title: String,
    /// Makes requests made before this time silent before cancelling them (no e-mail).
    #[arg(long, alias = "silentModeBefore")]
    pub silent_mode_before: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `transcend request mark-silent`.
#[derive(Debug, Args)]
pub struct MarkSilentArgs {
    #[command(flatten)]
    pub select: Selection,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `transcend request notify-additional-time`.
#[derive(Debug, Args)]
pub struct NotifyArgs {
    #[command(flatten)]
    pub select: Selection,
    /// Days added to each deadline.
    #[arg(long, default_value_t = 45)]
    pub days: i32,
    /// Only requests with fewer days than this left.
    #[arg(long, alias = "daysLeft", default_value_t = 10)]
    pub days_left: i32,
    /// The title of the e-mail template sent to the person.
    #[arg(
        long,
        alias = "emailTemplate",
        default_value = "Additional Time Needed"
    )]
    pub email_template: String,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `transcend request enricher-restart`.
#[derive(Debug, Args)]
pub struct EnricherRestartArgs {
    /// The enricher to run again.
    #[arg(long, alias = "enricherId")]
    pub enricher_id: String,
    /// Only its runs in these states (default: every one not resolved or skipped).
    #[arg(long, alias = "requestEnricherStatuses", value_delimiter = ',')]
    pub request_enricher_statuses: Vec<String>,
    #[command(flatten)]
    pub select: Selection,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `transcend request skip-preflight-jobs`.
#[derive(Debug, Args)]
pub struct SkipPreflightArgs {
    /// The enrichers to skip (comma-separated).
    #[arg(long, alias = "enricherIds", value_delimiter = ',', required = true)]
    pub enricher_ids: Vec<String>,
    #[command(flatten)]
    pub select: Selection,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `transcend request reject-unverified-identifiers`.
#[derive(Debug, Args)]
pub struct RejectArgs {
    /// Only identifiers of these types (email, phone, …; default: every type).
    #[arg(long, alias = "identifierNames", value_delimiter = ',')]
    pub identifier_names: Vec<String>,
    #[command(flatten)]
    pub select: Selection,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `transcend request system mark-request-data-silos-completed`.
#[derive(Debug, Args)]
pub struct MarkCompletedArgs {
    /// A CSV with a "Request Id" column (or `requestId`, `id`).
    #[arg(long)]
    pub file: PathBuf,
    /// The data silo.
    #[arg(long, alias = "dataSiloId")]
    pub data_silo_id: String,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `transcend request system retry-request-data-silos`.
#[derive(Debug, Args)]
pub struct RetrySilosArgs {
    /// The data silo.
    #[arg(long, alias = "dataSiloId")]
    pub data_silo_id: String,
    /// Only requests in these statuses (default: COMPILING, APPROVING).
    #[arg(long, alias = "requestStatuses", value_delimiter = ',')]
    pub statuses: Vec<String>,
    /// Only requests of these types.
    #[arg(long, value_delimiter = ',')]
    pub actions: Vec<String>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `transcend request system skip-request-data-silos`.
#[derive(Debug, Args)]
pub struct SkipSilosArgs {
    /// The data silo.
    #[arg(long, alias = "dataSiloId")]
    pub data_silo_id: String,
    /// What to set its parts to: SKIPPED or RESOLVED.
    #[arg(long, default_value = "SKIPPED")]
    pub status: String,
    /// Only requests in these statuses (default: COMPILING, SECONDARY).
    #[arg(long, alias = "requestStatuses", value_delimiter = ',')]
    pub statuses: Vec<String>,
    /// Only requests of these types.
    #[arg(long, value_delimiter = ',')]
    pub actions: Vec<String>,
    #[command(flatten)]
    pub run: RunArgs,
}

fn identity<T: std::fmt::Debug>(parts: T) -> String {
    format!("{parts:?}")
}

/// Every request matching `filter`, as targets.
async fn requests(client: &Client, filter: RequestFilters) -> Result<Vec<admin::Request>, String> {
    client
        .requests(filter)
        .try_collect()
        .await
        .map_err(|e| e.to_string())
}

/// The requests `filter` finds, as targets coming as the walk goes, and how many are
/// expected; those made before `silent_mode_before` and not silent yet are made
/// silent first (Transcend's `--silentModeBefore`).
async fn walk(
    client: &Client,
    filter: RequestFilters,
    silent_mode_before: Option<String>,
) -> Result<
    (
        u64,
        impl futures_util::Stream<Item = Result<Target, String>> + '_,
    ),
    String,
> {
    let total = client
        .count_requests(&filter)
        .await
        .map_err(|e| e.to_string())?;
    let targets = client.requests(filter).map(move |request| {
        let request = request.map_err(|e| e.to_string())?;
        let mut target = Target::request(
            request.id(),
            format!("{} {}", request.action, request.status),
        );
        target.silence_first = !request.is_silent
            && silent_mode_before
                .as_deref()
                .is_some_and(|t| request.created_at.as_str() < t);
        Ok(target)
    });
    Ok((u64::try_from(total).unwrap_or(0), targets))
}

/// The template with this exact title; refused when there is none.
async fn template(client: &Client, title: &str) -> Result<admin::Template, String> {
    client
        .template_by_title(title)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no e-mail template titled {title:?}"))
}

/// Runs a bulk command.
pub async fn manage(command: ManageCommand) -> Result<(), String> {
    let client = client()?;
    let client = &client;
    match command {
        ManageCommand::Approve(args) => {
            let settings = settings(
                "approve",
                &args.run,
                &identity((&args.select, &args.silent_mode_before)),
                50,
            );
            let filter = args.select.filter(&["APPROVING"])?;
            let (total, targets) = walk(client, filter, args.silent_mode_before.clone()).await?;
            run_stream(&settings, total, targets, |target| async move {
                if target.silence_first {
                    client.mark_silent(&target.id).await?;
                }
                client.approve_request(&target.id, None).await?;
                Ok(Outcome::Changed)
            })
            .await
            .map(drop)
        }
        ManageCommand::Cancel(args) => {
            let settings = settings(
                "cancel",
                &args.run,
                &identity((
                    &args.select,
                    &args.cancellation_title,
                    &args.silent_mode_before,
                )),
                50,
            );
            let template = template(client, &args.cancellation_title).await?;
            let filter = args.select.filter(OPEN_STATUSES)?;
            let (total, targets) = walk(client, filter, args.silent_mode_before.clone()).await?;
            let template = &template;
            run_stream(&settings, total, targets, |target| async move {
                if target.silence_first {
                    client.mark_silent(&target.id).await?;
                }
                client.cancel_request(&target.id, Some(template)).await?;
                Ok(Outcome::Changed)
            })
            .await
            .map(drop)
        }
        ManageCommand::MarkSilent(args) => {
            let settings = settings("mark-silent", &args.run, &identity(&args.select), 50);
            let filter = args.select.filter(OPEN_STATUSES)?.is_silent(false);
            let targets = requests(client, filter)
                .await?
                .iter()
                .map(|r| Target::request(r.id(), format!("{} {}", r.action, r.status)))
                .collect();
            run(&settings, targets, |target| async move {
                client.mark_silent(&target.id).await?;
                Ok(Outcome::Changed)
            })
            .await
            .map(drop)
        }
        ManageCommand::NotifyAdditionalTime(args) => {
            let settings = settings(
                "notify-additional-time",
                &args.run,
                &identity((
                    &args.select,
                    args.days,
                    args.days_left,
                    &args.email_template,
                )),
                100,
            );
            let template = template(client, &args.email_template).await?;
            let targets = requests(client, args.select.filter(OPEN_STATUSES)?)
                .await?
                .iter()
                .filter(|r| r.days_remaining.is_some_and(|d| d < args.days_left))
                .map(|r| {
                    let left = r.days_remaining.unwrap_or_default();
                    Target::request(r.id(), format!("{left} days left"))
                })
                .collect();
            let (template, days) = (&template, args.days);
            run(&settings, targets, |target| async move {
                client
                    .notify_additional_time(&target.id, days, Some(template))
                    .await?;
                Ok(Outcome::Changed)
            })
            .await
            .map(drop)
        }
        ManageCommand::EnricherRestart(args) => {
            let settings = settings(
                "enricher-restart",
                &args.run,
                &identity((
                    &args.select,
                    &args.enricher_id,
                    &args.request_enricher_statuses,
                )),
                15,
            );
            let statuses = super::known(
                &args.request_enricher_statuses,
                RequestEnricherStatus::parse,
                RequestEnricherStatus::KNOWN,
                "enricher status",
            )?;
            let targets = enrichers(client, &args.select, |part| {
                part.enricher.id.inner() == args.enricher_id
                    && if statuses.is_empty() {
                        !matches!(
                            part.status,
                            RequestEnricherStatus::Resolved | RequestEnricherStatus::Skipped
                        )
                    } else {
                        statuses.contains(&part.status)
                    }
            })
            .await?;
            run(&settings, targets, |target| async move {
                client.retry_request_enricher(&target.id).await?;
                Ok(Outcome::Changed)
            })
            .await
            .map(drop)
        }
        ManageCommand::SkipPreflightJobs(args) => {
            let settings = settings(
                "skip-preflight-jobs",
                &args.run,
                &identity((&args.select, &args.enricher_ids)),
                50,
            );
            let targets = enrichers(client, &args.select, |part| {
                args.enricher_ids
                    .iter()
                    .any(|id| id == part.enricher.id.inner())
            })
            .await?;
            run(&settings, targets, |target| async move {
                client.skip_request_enricher(&target.id).await?;
                Ok(Outcome::Changed)
            })
            .await
            .map(drop)
        }
        ManageCommand::RejectUnverifiedIdentifiers(args) => {
            let settings = settings(
                "reject-unverified-identifiers",
                &args.run,
                &identity((&args.select, &args.identifier_names)),
                20,
            );
            let targets = requests(client, args.select.filter(OPEN_STATUSES)?)
                .await?
                .iter()
                .map(|r| Target::request(r.id(), "its unverified identifiers"))
                .collect();
            let names = &args.identifier_names;
            run(&settings, targets, |target| async move {
                let unverified: Vec<String> = client
                    .admin_request_identifiers(&target.id)
                    .try_filter(|i| {
                        let wanted = !i.is_verified_at_least_once
                            && (names.is_empty()
                                || i.name.as_ref().is_some_and(|n| names.contains(n)));
                        std::future::ready(wanted)
                    })
                    .map_ok(|i| i.id.inner().to_owned())
                    .try_collect()
                    .await?;
                if unverified.is_empty() {
                    return Ok(Outcome::Skipped);
                }
                client
                    .remove_request_identifiers(
                        &target.id,
                        &unverified.iter().map(String::as_str).collect::<Vec<_>>(),
                    )
                    .await?;
                Ok(Outcome::Changed)
            })
            .await
            .map(drop)
        }
    }
}

/// The enrichers' parts of requests in ENRICHING that `wanted` picks.
async fn enrichers(
    client: &Client,
    select: &Selection,
    wanted: impl Fn(&admin::RequestEnricher) -> bool,
) -> Result<Vec<Target>, String> {
    let mut targets = Vec::new();
    for request in requests(client, select.filter(&["ENRICHING"])?).await? {
        let parts: Vec<admin::RequestEnricher> = client
            .request_enrichers(request.id())
            .try_collect()
            .await
            .map_err(|e| e.to_string())?;
        for part in parts.iter().filter(|p| wanted(p)) {
            targets.push(Target {
                id: part.id.inner().to_owned(),
                request_id: request.id().to_owned(),
                what: format!("enricher {} {}", part.enricher.title, part.status),
                silence_first: false,
            });
        }
    }
    Ok(targets)
}

/// Runs a `system` command.
pub async fn system(command: SystemCommand) -> Result<(), String> {
    let client = client()?;
    let client = &client;
    match command {
        SystemCommand::MarkRequestDataSilosCompleted(args) => {
            let settings = settings(
                "system mark-request-data-silos-completed",
                &args.run,
                &identity((&args.file, &args.data_silo_id)),
                100,
            );
            let mut targets = Vec::new();
            for id in crate::request::read_ids(&args.file)? {
                let mut filter = RequestDataSiloFilters::request(&id);
                filter.data_silo_id = Some(admin::Id::new(&args.data_silo_id));
                let parts: Vec<admin::RequestDataSilo> = client
                    .request_data_silos(filter)
                    .try_collect()
                    .await
                    .map_err(|e| e.to_string())?;
                targets.extend(parts.iter().map(silo_target));
            }
            run(&settings, targets, |target| async move {
                client
                    .change_request_data_silo_status(
                        &target.id,
                        UpdateRequestDataSiloStatus::Resolved,
                    )
                    .await?;
                Ok(Outcome::Changed)
            })
            .await
            .map(drop)
        }
        SystemCommand::RetryRequestDataSilos(args) => {
            let settings = settings(
                "system retry-request-data-silos",
                &args.run,
                &identity((&args.data_silo_id, &args.statuses, &args.actions)),
                20,
            );
            let targets = silo_parts(
                client,
                &args.data_silo_id,
                &args.statuses,
                &["COMPILING", "APPROVING"],
                &args.actions,
            )
            .await?
            .iter()
            .map(silo_target)
            .collect();
            run(&settings, targets, |target| async move {
                client.retry_request_data_silo(&target.id).await?;
                Ok(Outcome::Changed)
            })
            .await
            .map(drop)
        }
        SystemCommand::SkipRequestDataSilos(args) => {
            let settings = settings(
                "system skip-request-data-silos",
                &args.run,
                &identity((
                    &args.data_silo_id,
                    &args.status,
                    &args.statuses,
                    &args.actions,
                )),
                50,
            );
            let status = match args.status.as_str() {
                "SKIPPED" => UpdateRequestDataSiloStatus::Skipped,
                "RESOLVED" => UpdateRequestDataSiloStatus::Resolved,
                other => return Err(format!("--status {other:?}: expected SKIPPED or RESOLVED")),
            };
            let targets = silo_parts(
                client,
                &args.data_silo_id,
                &args.statuses,
                &["COMPILING", "SECONDARY"],
                &args.actions,
            )
            .await?
            .iter()
            .filter(|p| {
                !matches!(
                    p.status,
                    VisualRequestDataSiloStatus::Resolved | VisualRequestDataSiloStatus::Skipped
                )
            })
            .map(silo_target)
            .collect();
            let status = &status;
            run(&settings, targets, |target| async move {
                client
                    .change_request_data_silo_status(&target.id, status.clone())
                    .await?;
                Ok(Outcome::Changed)
            })
            .await
            .map(drop)
        }
    }
}

fn silo_target(part: &admin::RequestDataSilo) -> Target {
    Target {
        id: part.id.inner().to_owned(),
        request_id: part.request.id.inner().to_owned(),
        what: format!("data silo {} {}", part.data_silo.title, part.status),
        silence_first: false,
    }
}

/// A data silo's parts of requests in `statuses` (or `default`), of `actions`.
async fn silo_parts(
    client: &Client,
    data_silo_id: &str,
    statuses: &[String],
    default: &[&str],
    actions: &[String],
) -> Result<Vec<admin::RequestDataSilo>, String> {
    let statuses: Vec<String> = if statuses.is_empty() {
        default.iter().map(|s| (*s).to_owned()).collect()
    } else {
        statuses.to_vec()
    };
    let mut filter = RequestDataSiloFilters::default();
    filter.data_silo_id = Some(admin::Id::new(data_silo_id));
    filter.request_status = Some(super::known(
        &statuses,
        RequestStatus::parse,
        RequestStatus::KNOWN,
        "status",
    )?);
    let parts: Vec<admin::RequestDataSilo> = client
        .request_data_silos(filter)
        .try_collect()
        .await
        .map_err(|e| e.to_string())?;
    let actions = super::known(
        actions,
        admin::RequestAction::parse,
        admin::RequestAction::KNOWN,
        "type",
    )?;
    Ok(parts
        .into_iter()
        .filter(|p| actions.is_empty() || actions.contains(&p.request.action))
        .collect())
}
