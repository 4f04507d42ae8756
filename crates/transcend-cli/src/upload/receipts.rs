//! Receipts of an upload: every row's outcome as CSV, made from the journal, and a JSON
//! summary.

use std::path::Path;

use serde::Serialize;

use super::journal::{self, Outcome};

/// This run's counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunCounts {
    pub created: u64,
    pub created_earlier: u64,
    pub duplicate: u64,
    pub invalid: u64,
    pub failed: u64,
    pub elapsed_secs: f64,
    pub rows_per_sec: f64,
}

/// Every run's outcomes together: each row counted once, by its final outcome.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub created: u64,
    pub created_earlier: u64,
    pub duplicate: u64,
    pub invalid: u64,
    /// Rows whose last run failed them.
    pub failed: u64,
    /// Rows no run has an outcome for yet (an interrupted run).
    pub not_done: u64,
}

/// The JSON summary.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub input: String,
    pub journal: String,
    pub receipts: String,
    pub rows: u64,
    pub run: u32,
    pub this_run: RunCounts,
    pub total: Totals,
}

impl Summary {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        let t = &self.total;
        format!(
            "{} rows: {} created, {} created earlier (answer lost), {} duplicate, {} invalid, {} failed, {} not done \
             · this run {:.0} rows/s over {:.1} s",
            self.rows,
            t.created,
            t.created_earlier,
            t.duplicate,
            t.invalid,
            t.failed,
            t.not_done,
            self.this_run.rows_per_sec,
            self.this_run.elapsed_secs
        )
    }
}

/// Writes the receipts from the journal (already checked against the input when the
/// run started): each settled row, and each row the run `run` failed. Rows appear in
/// the order their outcomes were recorded. One pass: a row has at most one outcome per
/// run and a settled row is never sent again, so a failure of this run is never
/// followed by a settled outcome for the same row, and failures of earlier runs are
/// left out.
pub fn write(journal_path: &Path, receipts: &Path, rows: u64, run: u32) -> Result<Totals, String> {
    let failed_write = |e: csv::Error| format!("cannot write {}: {e}", receipts.display());
    let mut writer = csv::Writer::from_path(receipts).map_err(failed_write)?;
    writer
        .write_record([
            "row",
            "line",
            "outcome",
            "requestId",
            "status",
            "type",
            "coreIdentifier",
            "field",
            "httpStatus",
            "message",
            "run",
        ])
        .map_err(failed_write)?;
    let mut totals = Totals::default();
    let mut listed = 0u64;
    for done in journal::outcomes(journal_path)? {
        if done.outcome == Outcome::Failed && done.run != run {
            continue;
        }
        listed += 1;
        match done.outcome {
            Outcome::Created => totals.created += 1,
            Outcome::CreatedEarlier => totals.created_earlier += 1,
            Outcome::Duplicate => totals.duplicate += 1,
            Outcome::Invalid => totals.invalid += 1,
            Outcome::Failed => totals.failed += 1,
        }
        writer
            .write_record([
                done.row.to_string().as_str(),
                done.line.to_string().as_str(),
                done.outcome.as_str(),
                done.request_id.as_deref().unwrap_or_default(),
                done.status.as_deref().unwrap_or_default(),
                &done.action,
                &done.core_identifier,
                done.field.as_deref().unwrap_or_default(),
                &done.http_status.map(|s| s.to_string()).unwrap_or_default(),
                done.message.as_deref().unwrap_or_default(),
                done.run.to_string().as_str(),
            ])
            .map_err(failed_write)?;
    }
    writer
        .flush()
        .map_err(|e| format!("cannot write {}: {e}", receipts.display()))?;
    totals.not_done = rows.saturating_sub(listed);
    Ok(totals)
}

/// Writes the JSON summary.
pub fn write_summary(path: &Path, summary: &Summary) -> Result<(), String> {
    let text = serde_json::to_vec_pretty(summary).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
