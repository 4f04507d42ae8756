//! `transcend request export`: every request matching the filters, one row each with
//! its identifiers (through Sombra's `POST /v1/request-identifiers`), written as the
//! walk goes: memory does not grow with the number of requests. `--concurrency N`
//! splits the created-at range into N chunks, each walked at once into a file of its
//! own, as Transcend's CLI does; a chunk that fails is named with its range, to rerun.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use futures_util::{StreamExt, TryStreamExt};
use transcend_hyper::Client;
use transcend_hyper::admin::{self, RequestFilters};
use transcend_hyper::types::time::{Duration as Span, OffsetDateTime};
use transcend_hyper::types::{RequestIdentifier, Timestamp};

use super::{OPEN_STATUSES, Selection, client};

/// `transcend request export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub select: Selection,
    /// Every status, not only open requests, when no `--statuses` are given.
    #[arg(long)]
    pub all_statuses: bool,
    /// Where to write (with `--concurrency N`, one file per chunk: `NAME-1.csv`, …).
    #[arg(long, default_value = "transcend-request-export.csv")]
    pub file: PathBuf,
    /// `csv` (one `identifiers` column: `type:value` pairs joined by `; `) or `jsonl`
    /// (one JSON object per line, identifiers as a list).
    #[arg(long, default_value = "csv")]
    pub format: String,
    /// Chunks of the created-at range walked at once.
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Requests whose identifiers are fetched at once, in each chunk.
    #[arg(long, default_value_t = 8)]
    pub identifier_concurrency: usize,
}

const COLUMNS: [&str; 17] = [
    "id",
    "createdAt",
    "updatedAt",
    "status",
    "type",
    "subjectType",
    "email",
    "coreIdentifier",
    "country",
    "countrySubDivision",
    "locale",
    "origin",
    "isSilent",
    "isTest",
    "daysRemaining",
    "link",
    "identifiers",
];

/// A chunk: its part of the created-at range, and its file.
struct Chunk {
    after: String,
    before: String,
    file: PathBuf,
}

/// Runs the export.
pub async fn export(args: ExportArgs) -> Result<(), String> {
    let jsonl = match args.format.as_str() {
        "csv" => false,
        "jsonl" => true,
        other => return Err(format!("--format {other:?}: expected csv or jsonl")),
    };
    let client = client()?;
    let organization = client.organization().await.map_err(|e| e.to_string())?;
    sombra_serves_identifiers(organization.sombra.version.as_deref())?;
    let defaults: &[&str] = if args.all_statuses {
        &[]
    } else {
        OPEN_STATUSES
    };
    let filter = args.select.filter(defaults)?;
    let chunks = chunks(&client, &args, &filter).await?;
    let results: Vec<(Chunk, Result<u64, String>)> = futures_util::stream::iter(chunks)
        .map(|chunk| {
            let client = &client;
            let filter = filter.clone();
            let concurrency = args.identifier_concurrency;
            async move {
                let filter = filter
                    .created_at_after(chunk.after.clone())
                    .created_at_before(chunk.before.clone());
                let written = write_chunk(client, filter, &chunk.file, jsonl, concurrency).await;
                (chunk, written)
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    let mut failed = 0;
    let mut total = 0;
    for (chunk, result) in &results {
        match result {
            Ok(rows) => {
                total += rows;
                eprintln!("{}: {rows} requests", chunk.file.display());
            }
            Err(error) => {
                failed += 1;
                eprintln!(
                    "{} failed: {error}\n  rerun it with --created-at-after {} --created-at-before {} --file {}",
                    chunk.file.display(),
                    chunk.after,
                    chunk.before,
                    chunk.file.display()
                );
            }
        }
    }
    println!(
        "export: {total} requests in {} files",
        results.len() - failed
    );
    if failed > 0 {
        return Err(format!("{failed} chunks failed; rerun each with its range"));
    }
    Ok(())
}

/// The created-at range (the filter's, else from the oldest matching request to now),
/// cut into `--concurrency` equal chunks.
async fn chunks(
    client: &Client,
    args: &ExportArgs,
    filter: &RequestFilters,
) -> Result<Vec<Chunk>, String> {
    let parse = |value: &str, what: &str| {
        Timestamp::parse(value)
            .and_then(|t| t.to_datetime())
            .map_err(|_| format!("{what} {value:?}: expected an ISO 8601 date-time"))
    };
    let before = match &args.select.created_at_before {
        Some(before) => parse(before, "--created-at-before")?,
        None => OffsetDateTime::now_utc() + Span::seconds(1),
    };
    let after = match &args.select.created_at_after {
        Some(after) => parse(after, "--created-at-after")?,
        None => {
            let oldest = std::pin::pin!(client.requests(filter.clone()))
                .try_next()
                .await;
            match oldest.map_err(|e| e.to_string())? {
                Some(request) => parse(&request.created_at, "the oldest request's createdAt")?,
                None => before - Span::seconds(1),
            }
        }
    };
    let n = args.concurrency.max(1);
    let step = (before - after) / n as f64;
    Ok((0..n)
        .map(|i| {
            let from = after + step * i as f64;
            let to = if i + 1 == n {
                before
            } else {
                after + step * (i + 1) as f64
            };
            Chunk {
                after: Timestamp::from_datetime(from).as_str().to_owned(),
                before: Timestamp::from_datetime(to).as_str().to_owned(),
                file: chunk_file(&args.file, i, n),
            }
        })
        .collect())
}

/// The first Sombra version that answers `POST /v1/request-identifiers`, which the
/// export reads each request's identifiers with; Transcend's CLI refuses `request
/// export` below it ("Please upgrade Sombra to 7.180.0 or greater").
const IDENTIFIERS_SINCE: (u64, u64, u64) = (7, 180, 0);

/// Refuses a Sombra older than [`IDENTIFIERS_SINCE`]; a version that is not given, or
/// not `MAJOR.MINOR.PATCH`, is let through (the calls themselves will say).
fn sombra_serves_identifiers(version: Option<&str>) -> Result<(), String> {
    let Some(version) = version else {
        return Ok(());
    };
    let numbers: Vec<u64> = version
        .trim_start_matches('v')
        .split(['.', '-', '+'])
        .take(3)
        .map_while(|part| part.parse().ok())
        .collect();
    let [major, minor, patch] = numbers[..] else {
        return Ok(());
    };
    if (major, minor, patch) < IDENTIFIERS_SINCE {
        let (a, b, c) = IDENTIFIERS_SINCE;
        return Err(format!(
            "the organization's Sombra is {version}: reading a request's identifiers needs \
             Sombra {a}.{b}.{c} or later (upgrade Sombra)"
        ));
    }
    Ok(())
}

fn chunk_file(file: &Path, i: usize, n: usize) -> PathBuf {
    if n == 1 {
        return file.to_owned();
    }
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("export");
    let extension = file.extension().and_then(|s| s.to_str()).unwrap_or("csv");
    file.with_file_name(format!("{stem}-{}.{extension}", i + 1))
}

/// Walks one chunk into its file; the number of requests written.
async fn write_chunk(
    client: &Client,
    filter: RequestFilters,
    path: &Path,
    jsonl: bool,
    concurrency: usize,
) -> Result<u64, String> {
    let file =
        std::fs::File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut out = Output::new(std::io::BufWriter::new(file), jsonl);
    out.header()
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    // Each request's identifiers are fetched `concurrency` at a time, in walk order.
    let rows = client
        .requests(filter)
        .map_ok(|request| async move {
            let identifiers: Vec<RequestIdentifier> = client
                .request_identifiers(request.id())
                .try_collect()
                .await?;
            Ok::<_, transcend_hyper::Error>((request, identifiers))
        })
        .try_buffered(concurrency.max(1));
    let mut rows = std::pin::pin!(rows);
    let mut written = 0;
    while let Some(row) = rows.next().await {
        let (request, identifiers) = row.map_err(|e| e.to_string())?;
        out.row(&request, &identifiers)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written += 1;
    }
    out.finish()
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(written)
}

/// A CSV or JSON-lines writer of requests.
struct Output<W: Write> {
    csv: Option<csv::Writer<W>>,
    jsonl: Option<W>,
}

impl<W: Write> Output<W> {
    fn new(out: W, jsonl: bool) -> Self {
        if jsonl {
            Self {
                csv: None,
                jsonl: Some(out),
            }
        } else {
            Self {
                csv: Some(csv::Writer::from_writer(out)),
                jsonl: None,
            }
        }
    }

    fn header(&mut self) -> std::io::Result<()> {
        if let Some(csv) = &mut self.csv {
            csv.write_record(COLUMNS)?;
        }
        Ok(())
    }

    fn row(
        &mut self,
        request: &admin::Request,
        identifiers: &[RequestIdentifier],
    ) -> std::io::Result<()> {
        let kind = |i: &RequestIdentifier| {
            i.identifier_type
                .as_ref()
                .map(ToString::to_string)
                .or_else(|| i.name.clone())
                .unwrap_or_default()
        };
        let fields = [
            request.id().to_owned(),
            request.created_at.clone(),
            request.updated_at.clone(),
            request.status.to_string(),
            request.action.to_string(),
            request.subject_type.clone(),
            request.email.clone().unwrap_or_default(),
            request.core_identifier.clone(),
            request
                .country
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            request.country_sub_division.clone().unwrap_or_default(),
            request.locale.clone(),
            request.origin.to_string(),
            request.is_silent.to_string(),
            request.is_test.to_string(),
            request
                .days_remaining
                .map(|d| d.to_string())
                .unwrap_or_default(),
            request.link.clone(),
        ];
        if let Some(csv) = &mut self.csv {
            let joined = identifiers
                .iter()
                .map(|i| format!("{}:{}", kind(i), i.value))
                .collect::<Vec<_>>()
                .join("; ");
            csv.write_record(fields.iter().map(String::as_str).chain([joined.as_str()]))?;
        }
        if let Some(out) = &mut self.jsonl {
            let mut object = serde_json::Map::new();
            for (name, value) in COLUMNS.iter().zip(&fields) {
                object.insert((*name).to_owned(), serde_json::Value::String(value.clone()));
            }
            object.insert(
                "identifiers".into(),
                serde_json::Value::Array(
                    identifiers
                        .iter()
                        .map(|i| serde_json::json!({"type": kind(i), "value": i.value}))
                        .collect(),
                ),
            );
            serde_json::to_writer(&mut *out, &object)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn finish(self) -> std::io::Result<()> {
        if let Some(mut csv) = self.csv {
            csv.flush()?;
        }
        if let Some(mut out) = self.jsonl {
            out.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod sombra_version_tests {
    use super::sombra_serves_identifiers;

    #[test]
    fn below_7_180_0_is_refused_and_the_rest_let_through() {
        for old in ["7.179.9", "6.999.0", "v7.100.3", "0.1.0"] {
            let refused = sombra_serves_identifiers(Some(old)).unwrap_err();
            assert!(
                refused.contains(old) && refused.contains("7.180.0"),
                "{refused}"
            );
        }
        for new in ["7.180.0", "7.181.2", "8.0.0", "7.180.0-rc.1", "v7.200.0"] {
            assert!(sombra_serves_identifiers(Some(new)).is_ok(), "{new}");
        }
        for unknown in [None, Some("latest"), Some("7")] {
            assert!(sombra_serves_identifiers(unknown).is_ok(), "{unknown:?}");
        }
    }
}
