//! JSON reports read as they arrive (`POST /v1/data-silo`, `POST /v1/datapoint-chunked`):
//! a report is parsed piece by piece on a blocking thread while its bytes come in, and
//! every datapoint value (or a page's records) is copied (re-serialised, never held as
//! a tree) into a buffer that turns into a file on disk once it passes [`LARGE_VALUE`]
//! or the report's in-memory budget is spent. What the store keeps of a report is
//! therefore bounded whatever its size; the rest is listed with the job's files and
//! downloads from disk.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::ser::PrettyFormatter;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use transcend_proto::server::ServerError;
use transcend_proto::types::{AccessProfile, AccessStatus, AccessUpload, DatapointChunk, Validate};

use crate::files::{self, internal};
use crate::nonce::NonceClaims;
use crate::state::Shared;
use crate::view::FileView;

/// A datapoint value larger than this (as pretty JSON) is kept on disk, listed with
/// the job's files, rather than in memory with the profile.
pub(crate) const LARGE_VALUE: usize = 64 * 1024;

/// What one report may keep in memory, all values together (as pretty JSON); values
/// past it go to disk whatever their size.
const KEPT_PER_REPORT: usize = 256 * 1024;

/// Chunks of the body waiting for the parser: what is buffered at once is this many
/// of the connection's reads.
const CHUNKS_IN_FLIGHT: usize = 8;

/// A report, read: its small values in `upload`, its large ones in files on disk.
#[derive(Debug)]
pub(crate) struct ReadReport {
    /// The report with the values kept in memory (validated).
    pub upload: AccessUpload,
    /// The values kept on disk, in the order they came.
    pub files: Vec<FileView>,
}

/// A page of a chunked datapoint, read: its records in memory when small, else on disk.
#[derive(Debug)]
pub(crate) struct ReadPage {
    /// The page, its `data` empty when it is on disk (validated).
    pub chunk: DatapointChunk,
    /// Where its `data` (a JSON array) is kept, and its size, when on disk.
    pub on_disk: Option<(PathBuf, u64)>,
}

/// Reads an access report from `body` within the configured body limit. On any
/// failure (a body over the limit or broken off, JSON that is not a valid report, a
/// disk that refuses), the files written so far are deleted and the reason logged.
pub(crate) async fn read_report(
    shared: Arc<Shared>,
    claims: &NonceClaims,
    body: Incoming,
) -> Result<ReadReport, ServerError> {
    let parsed = read_streamed(shared, claims, body, "an access report", parse_upload).await?;
    Ok(finish(claims, parsed))
}

/// Reads a page of `POST /v1/datapoint-chunked` as [`read_report`] reads a report: its
/// `data` goes to disk once it passes [`LARGE_VALUE`].
pub(crate) async fn read_page(
    shared: Arc<Shared>,
    claims: &NonceClaims,
    body: Incoming,
) -> Result<ReadPage, ServerError> {
    let parsed = read_streamed(shared, claims, body, "a datapoint page", parse_page).await?;
    let on_disk = parsed.spilled.into_iter().next().map(|page| {
        tracing::info!(
            request = %claims.request_id,
            silo = %claims.silo_id,
            datapoint = %parsed.value.datapoint_name,
            size = page.size,
            "a large datapoint page was kept on disk"
        );
        (page.path, page.size)
    });
    Ok(ReadPage {
        chunk: parsed.value,
        on_disk,
    })
}

/// A parser of one kind of report, reading from the body and writing values out.
type ParseFn<T> = fn(BufReader<ChannelReader>, &mut Open<'_>) -> Result<Parsed<T>, Failed>;

/// Feeds `body` to `parse` on a blocking thread, within the body limit; on failure
/// deletes what was written and logs why.
async fn read_streamed<T: Send + 'static>(
    shared: Arc<Shared>,
    claims: &NonceClaims,
    mut body: Incoming,
    what: &'static str,
    parse: ParseFn<T>,
) -> Result<Parsed<T>, ServerError> {
    let limit = shared.config.body_limit;
    let dir = files::job_dir(&shared, claims);
    let (chunks, rx) = mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let parser = {
        let shared = Arc::clone(&shared);
        tokio::task::spawn_blocking(move || {
            let mut open = |name: &str| {
                std::fs::create_dir_all(&dir)?;
                let path = files::numbered(&shared, &dir, &format!("{name}.json"));
                File::create(&path).map(|file| (path, file))
            };
            parse(
                BufReader::with_capacity(64 * 1024, ChannelReader::new(rx)),
                &mut open,
            )
        })
    };
    let mut received = 0u64;
    let pumped: Result<(), ServerError> = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| ServerError::BadRequest {
                message: format!("the body broke off: {e}"),
            })?;
            if let Ok(mut data) = frame.into_data() {
                received += data.len() as u64;
                if received > limit {
                    return Err(ServerError::PayloadTooLarge { limit });
                }
                if chunks
                    .send(data.copy_to_bytes(data.remaining()))
                    .await
                    .is_err()
                {
                    // The parser stopped early: its error says why.
                    break;
                }
            }
        }
        Ok(())
    }
    .await;
    drop(chunks);
    let parsed = parser.await.map_err(|_| internal("report parsing"))?;
    let outcome = match (pumped, parsed) {
        (Err(error), parsed) => {
            discard(&parsed.map_or_else(|f| f.created, |p| p.created));
            Err(error)
        }
        (Ok(()), Err(failure)) => {
            discard(&failure.created);
            Err(failure.error)
        }
        (Ok(()), Ok(parsed)) => Ok(parsed),
    };
    if let Err(error) = &outcome {
        tracing::warn!(
            request = %claims.request_id,
            silo = %claims.silo_id,
            received,
            reason = %error,
            "{what} was refused or broke off; the values written to disk are deleted"
        );
    }
    outcome
}

/// The files of a parsed report, named as the report download names them.
fn finish(claims: &NonceClaims, parsed: Parsed<AccessUpload>) -> ReadReport {
    let profiles = parsed.value.profiles.as_deref().unwrap_or_default();
    let files = parsed
        .spilled
        .into_iter()
        .map(|value| {
            let profile_id = profiles
                .get(value.profile)
                .and_then(|p| p.profile_id.as_deref());
            tracing::info!(
                request = %claims.request_id,
                silo = %claims.silo_id,
                datapoint = %value.datapoint,
                size = value.size,
                "a large datapoint value was kept on disk"
            );
            files::json_file_view(
                claims,
                &value.datapoint,
                profile_id,
                value.size,
                value.sha256,
                value.path,
            )
        })
        .collect();
    ReadReport {
        upload: parsed.value,
        files,
    }
}

fn discard(paths: &[PathBuf]) {
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

/// The body's chunks as a blocking [`Read`]: ends when the sender is dropped.
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl ChannelReader {
    fn new(rx: mpsc::Receiver<Bytes>) -> Self {
        Self {
            rx,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

/// A value written to disk.
#[derive(Debug)]
struct Spilled {
    /// Which profile (index in the report) it belongs to.
    profile: usize,
    datapoint: String,
    path: PathBuf,
    size: u64,
    sha256: String,
}

/// A report parsed and validated: small values in `value`, the rest on disk.
#[derive(Debug)]
struct Parsed<T> {
    value: T,
    spilled: Vec<Spilled>,
    /// Every file created, for clean-up.
    created: Vec<PathBuf>,
}

/// Why a report could not be parsed, and the files to delete.
#[derive(Debug)]
struct Failed {
    error: ServerError,
    created: Vec<PathBuf>,
}

/// Opens a new file on disk for a datapoint's value.
type Open<'a> = dyn FnMut(&str) -> io::Result<(PathBuf, File)> + 'a;

/// What the seeds share while a report is parsed.
struct Context<'a, 'o> {
    open: &'a mut Open<'o>,
    /// Bytes of JSON kept in memory so far.
    kept: usize,
    spilled: Vec<Spilled>,
    created: Vec<PathBuf>,
    /// The first failure to write to disk, reported as such (not as bad JSON).
    disk_error: Option<io::Error>,
    /// The index of the profile being read.
    profile: usize,
}

/// Parses an access report from `reader`, writing values out through `open`.
fn parse_upload<R: Read>(reader: R, open: &mut Open<'_>) -> Result<Parsed<AccessUpload>, Failed> {
    parse_with(reader, open, |context, json| {
        UploadSeed(context).deserialize(json)
    })
}

/// Parses a datapoint page from `reader`, writing its `data` out through `open` when
/// it is large.
fn parse_page<R: Read>(reader: R, open: &mut Open<'_>) -> Result<Parsed<DatapointChunk>, Failed> {
    parse_with(reader, open, |context, json| {
        PageSeed(context).deserialize(json)
    })
}

/// Runs `seed` over the JSON in `reader`, then checks that nothing follows it and that
/// the value is valid.
fn parse_with<R, T>(
    reader: R,
    open: &mut Open<'_>,
    seed: impl FnOnce(
        &mut Context<'_, '_>,
        &mut serde_json::Deserializer<serde_json::de::IoRead<R>>,
    ) -> Result<T, serde_json::Error>,
) -> Result<Parsed<T>, Failed>
where
    R: Read,
    T: Validate,
{
    let mut context = Context {
        open,
        kept: 0,
        spilled: Vec::new(),
        created: Vec::new(),
        disk_error: None,
        profile: 0,
    };
    let mut json = serde_json::Deserializer::from_reader(reader);
    let parsed = seed(&mut context, &mut json).and_then(|value| json.end().map(|()| value));
    let error = match parsed {
        Ok(value) => match value.validate() {
            Ok(()) => {
                return Ok(Parsed {
                    value,
                    spilled: context.spilled,
                    created: context.created,
                });
            }
            Err(invalid) => ServerError::BadRequest {
                message: invalid.to_string(),
            },
        },
        Err(error) => match context.disk_error {
            Some(io) => {
                tracing::error!(error = %io, "a report value could not be written to disk");
                internal("file storage")
            }
            None => ServerError::BadRequest {
                message: format!("invalid body: {error}"),
            },
        },
    };
    Err(Failed {
        error,
        created: context.created,
    })
}

/// A page: `dataPointName`, `data` (a list, kept or written out whole), `fileId`,
/// `isLastPage`; other fields are ignored, as the page's type ignores them.
struct PageSeed<'c, 'a, 'o>(&'c mut Context<'a, 'o>);

impl<'de> DeserializeSeed<'de> for PageSeed<'_, '_, '_> {
    type Value = DatapointChunk;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_, '_, '_> {
    type Value = DatapointChunk;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a datapoint page object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut name, mut data, mut file_id, mut last) = (None, None, None, false);
        let mut seen = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "dataPointName" => {
                    once(&mut seen, "dataPointName")?;
                    name = Some(map.next_value::<String>()?);
                }
                "data" => {
                    once(&mut seen, "data")?;
                    let context = &mut *self.0;
                    let room = LARGE_VALUE;
                    let mut out = Spill::new(room, "page", context);
                    map.next_value_seed(ValueSeed(&mut out))?;
                    if out.first != Some(b'[') {
                        return Err(de::Error::invalid_type(
                            de::Unexpected::Other("a value that is not a list"),
                            &"a list of records",
                        ));
                    }
                    data = Some(match out.finish().map_err(|e| disk_failure(self.0, e))? {
                        Spilt::Kept(bytes) => {
                            serde_json::from_slice::<Vec<serde_json::Value>>(&bytes)
                                .map_err(de::Error::custom)?
                        }
                        Spilt::Written { path, size, sha256 } => {
                            self.0.spilled.push(Spilled {
                                profile: 0,
                                datapoint: String::new(),
                                path,
                                size,
                                sha256,
                            });
                            Vec::new()
                        }
                    });
                }
                "fileId" => {
                    once(&mut seen, "fileId")?;
                    file_id = map.next_value::<Option<String>>()?;
                }
                "isLastPage" => {
                    once(&mut seen, "isLastPage")?;
                    last = map.next_value::<Option<bool>>()?.unwrap_or(false);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let name = name.ok_or_else(|| de::Error::missing_field("dataPointName"))?;
        let data = data.ok_or_else(|| de::Error::missing_field("data"))?;
        let mut chunk = DatapointChunk::new(name, data, last);
        chunk.file_id = file_id;
        Ok(chunk)
    }
}

/// The report object: `profiles` and `status`; other fields are ignored, as the
/// report's type ignores them.
struct UploadSeed<'c, 'a, 'o>(&'c mut Context<'a, 'o>);

impl<'de> DeserializeSeed<'de> for UploadSeed<'_, '_, '_> {
    type Value = AccessUpload;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for UploadSeed<'_, '_, '_> {
    type Value = AccessUpload;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an access report object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut upload = AccessUpload::default();
        let mut seen = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "profiles" => {
                    once(&mut seen, "profiles")?;
                    upload.profiles = map.next_value_seed(ProfilesSeed(&mut *self.0))?;
                }
                "status" => {
                    once(&mut seen, "status")?;
                    upload.status = map.next_value::<Option<AccessStatus>>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(upload)
    }
}

/// `profiles`: null or a list.
struct ProfilesSeed<'c, 'a, 'o>(&'c mut Context<'a, 'o>);

impl<'de> DeserializeSeed<'de> for ProfilesSeed<'_, '_, '_> {
    type Value = Option<Vec<AccessProfile>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ProfilesSeed<'_, '_, '_> {
    type Value = Option<Vec<AccessProfile>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of profiles or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut profiles = Vec::new();
        loop {
            self.0.profile = profiles.len();
            match seq.next_element_seed(ProfileSeed(&mut *self.0))? {
                Some(profile) => profiles.push(profile),
                None => return Ok(Some(profiles)),
            }
        }
    }
}

/// One profile: `profileId` (optional, before or after the data) and `profileData`.
struct ProfileSeed<'c, 'a, 'o>(&'c mut Context<'a, 'o>);

impl<'de> DeserializeSeed<'de> for ProfileSeed<'_, '_, '_> {
    type Value = AccessProfile;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProfileSeed<'_, '_, '_> {
    type Value = AccessProfile;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a profile object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut id: Option<String> = None;
        let mut data = None;
        let mut seen = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "profileId" => {
                    once(&mut seen, "profileId")?;
                    id = map.next_value()?;
                }
                "profileData" => {
                    once(&mut seen, "profileData")?;
                    data = Some(map.next_value_seed(DataSeed(&mut *self.0))?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let data = data.ok_or_else(|| de::Error::missing_field("profileData"))?;
        let mut profile = match id {
            Some(id) => AccessProfile::new(id),
            None => AccessProfile::unnamed(),
        };
        profile.profile_data = data;
        Ok(profile)
    }
}

/// `profileData`: each value kept in memory or written to disk as it is read.
struct DataSeed<'c, 'a, 'o>(&'c mut Context<'a, 'o>);

impl<'de> DeserializeSeed<'de> for DataSeed<'_, '_, '_> {
    type Value = serde_json::Map<String, serde_json::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_, '_, '_> {
    type Value = serde_json::Map<String, serde_json::Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object of datapoints")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = serde_json::Map::new();
        while let Some(datapoint) = map.next_key::<String>()? {
            let context = &mut *self.0;
            let room = LARGE_VALUE.min(KEPT_PER_REPORT.saturating_sub(context.kept));
            let mut out = Spill::new(room, &datapoint, context);
            map.next_value_seed(ValueSeed(&mut out))?;
            match out.finish().map_err(|e| disk_failure(self.0, e))? {
                Spilt::Kept(bytes) => {
                    let value = serde_json::from_slice(&bytes).map_err(de::Error::custom)?;
                    self.0.kept += bytes.len();
                    kept.insert(datapoint, value);
                }
                Spilt::Written { path, size, sha256 } => self.0.spilled.push(Spilled {
                    profile: self.0.profile,
                    datapoint,
                    path,
                    size,
                    sha256,
                }),
            }
        }
        Ok(kept)
    }
}

/// Refuses a field seen twice in one object, as the report types' own parsing does.
fn once<E: de::Error>(seen: &mut Vec<&'static str>, field: &'static str) -> Result<(), E> {
    if seen.contains(&field) {
        return Err(E::duplicate_field(field));
    }
    seen.push(field);
    Ok(())
}

fn disk_failure<E: de::Error>(context: &mut Context<'_, '_>, error: io::Error) -> E {
    let message = format!("writing a value to disk: {error}");
    context.disk_error.get_or_insert(error);
    E::custom(message)
}

/// One value, copied as pretty JSON into a [`Spill`] as the parser reads it.
struct ValueSeed<'s, 'c, 'a, 'o>(&'s mut Spill<'c, 'a, 'o>);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let mut json = serde_json::Serializer::with_formatter(&mut *self.0, PrettyFormatter::new());
        let copied = serde_transcode::transcode(deserializer, &mut json);
        match (copied, self.0.failed.take()) {
            (_, Some(io)) => Err(disk_failure(self.0.context, io)),
            (Err(error), None) => Err(de::Error::custom(error)),
            (Ok(()), None) => Ok(()),
        }
    }
}

/// A value's JSON: in memory up to `room` bytes, then in a file of its own.
struct Spill<'c, 'a, 'o> {
    room: usize,
    datapoint: &'c str,
    context: &'c mut Context<'a, 'o>,
    buffer: Vec<u8>,
    file: Option<(PathBuf, BufWriter<File>)>,
    size: u64,
    hash: Sha256,
    /// A write to disk that failed (the serializer only sees that one did).
    failed: Option<io::Error>,
    /// The value's first byte (`[` for a list).
    first: Option<u8>,
}

/// Where a value ended up.
enum Spilt {
    Kept(Vec<u8>),
    Written {
        path: PathBuf,
        size: u64,
        sha256: String,
    },
}

impl<'c, 'a, 'o> Spill<'c, 'a, 'o> {
    fn new(room: usize, datapoint: &'c str, context: &'c mut Context<'a, 'o>) -> Self {
        Self {
            room,
            datapoint,
            context,
            buffer: Vec::new(),
            file: None,
            size: 0,
            hash: Sha256::new(),
            failed: None,
            first: None,
        }
    }

    fn write_out(&mut self, data: &[u8]) -> io::Result<()> {
        if self.first.is_none() {
            self.first = data.first().copied();
        }
        self.size += data.len() as u64;
        if let Some((_, file)) = &mut self.file {
            self.hash.update(data);
            return file.write_all(data);
        }
        self.buffer.extend_from_slice(data);
        if self.buffer.len() > self.room {
            let (path, file) = (self.context.open)(self.datapoint)?;
            self.context.created.push(path.clone());
            let mut file = BufWriter::with_capacity(64 * 1024, file);
            let held = std::mem::take(&mut self.buffer);
            self.hash.update(&held);
            file.write_all(&held)?;
            self.file = Some((path, file));
        }
        Ok(())
    }

    fn finish(self) -> io::Result<Spilt> {
        match self.file {
            None => Ok(Spilt::Kept(self.buffer)),
            Some((path, file)) => {
                file.into_inner()
                    .map_err(io::IntoInnerError::into_error)?
                    .sync_data()?;
                Ok(Spilt::Written {
                    path,
                    size: self.size,
                    sha256: self
                        .hash
                        .finalize()
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect(),
                })
            }
        }
    }
}

impl Write for Spill<'_, '_, '_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self.write_out(data) {
            Ok(()) => Ok(data.len()),
            Err(error) => {
                let kind = error.kind();
                self.failed.get_or_insert(error);
                Err(kind.into())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_in(dir: &std::path::Path, body: &[u8]) -> Result<Parsed<AccessUpload>, Failed> {
        let mut n = 0;
        let mut open = |name: &str| {
            n += 1;
            let path = dir.join(format!("{n}-{name}.json"));
            File::create(&path).map(|f| (path, f))
        };
        parse_upload(body, &mut open)
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("transcend-access-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn small_values_stay_in_memory_and_match_the_typed_parse() {
        let dir = temp_dir("small");
        let body = json!({
            "unknown": {"ignored": [1, 2]},
            "profiles": [
                {"profileData": {"name": "Ada", "n": 12345678901234_u64, "x": -1.5}, "profileId": "p1"},
                {"profileData": {"nested": {"a": [true, null, "é\"\\"]}}}
            ],
            "status": "READY"
        });
        let bytes = serde_json::to_vec(&body).unwrap();
        let parsed = parse_in(&dir, &bytes).unwrap();
        let typed: AccessUpload = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(parsed.value, typed);
        assert!(parsed.spilled.is_empty() && parsed.created.is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_large_value_goes_to_disk_with_its_profile_and_pretty_json() {
        let dir = temp_dir("large");
        let rows: Vec<_> = (0..5_000)
            .map(|i| json!({"order": i, "item": "book"}))
            .collect();
        let body = json!({
            "profiles": [
                {"profileId": "p0", "profileData": {"small": 1}},
                {"profileData": {"history": rows, "tiny": "t"}, "profileId": "p1"}
            ]
        });
        let parsed = parse_in(&dir, &serde_json::to_vec(&body).unwrap()).unwrap();
        let [spilled] = &parsed.spilled[..] else {
            panic!("{:?}", parsed.spilled)
        };
        assert_eq!(
            (spilled.profile, spilled.datapoint.as_str()),
            (1, "history")
        );
        let written = std::fs::read(&spilled.path).unwrap();
        assert_eq!(written, serde_json::to_vec_pretty(&json!(rows)).unwrap());
        assert_eq!(spilled.size, written.len() as u64);
        let sha: String = Sha256::digest(&written)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(spilled.sha256, sha);
        let profiles = parsed.value.profiles.unwrap();
        assert_eq!(profiles[1].profile_data.get("tiny"), Some(&json!("t")));
        assert!(!profiles[1].profile_data.contains_key("history"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn past_the_report_budget_even_small_values_go_to_disk() {
        let dir = temp_dir("budget");
        let value = "v".repeat(40_000);
        let data: serde_json::Map<_, _> =
            (0..20).map(|i| (format!("d{i}"), json!(value))).collect();
        let body = json!({"profiles": [{"profileData": data}]});
        let parsed = parse_in(&dir, &serde_json::to_vec(&body).unwrap()).unwrap();
        let kept = &parsed.value.profiles.unwrap()[0].profile_data;
        let kept_bytes: usize = kept.values().map(|v| v.to_string().len()).sum();
        assert!(kept_bytes <= KEPT_PER_REPORT, "{kept_bytes}");
        assert_eq!(kept.len() + parsed.spilled.len(), 20);
        assert!(!parsed.spilled.is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_json_names_where_and_lists_the_files_to_delete() {
        let dir = temp_dir("bad");
        let big = "x".repeat(LARGE_VALUE * 2);
        let body = format!(r#"{{"profiles":[{{"profileData":{{"big":"{big}","next":[1,}}}}]}}"#);
        let failed = parse_in(&dir, body.as_bytes()).unwrap_err();
        assert_eq!(
            failed.created.len(),
            1,
            "the large value was written before the break"
        );
        let message = failed.error.to_string();
        assert!(message.contains("line 1"), "{message}");
        for (body, says) in [
            (&br#"{"profiles":[{"profileId":"p"}]}"#[..], "profileData"),
            (br#"{"profiles":{}}"#, "list of profiles"),
            (
                br#"{"profiles":[{"profileData":{},"profileData":{}}]}"#,
                "duplicate field `profileData`",
            ),
            (br#"{"status":"READY"} trailing"#, "trailing"),
            (br#"{"profiles":[{"profileData":{"a":1}}]"#, "EOF"),
        ] {
            let failed = parse_in(&dir, body).unwrap_err();
            assert!(failed.error.to_string().contains(says), "{}", failed.error);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_disk_that_refuses_is_a_server_error_not_bad_json() {
        let mut open =
            |_: &str| -> io::Result<(PathBuf, File)> { Err(io::Error::other("disk full")) };
        let body = format!(
            r#"{{"profiles":[{{"profileData":{{"big":"{}"}}}}]}}"#,
            "x".repeat(LARGE_VALUE * 2)
        );
        let failed = parse_upload(body.as_bytes(), &mut open).unwrap_err();
        assert_eq!(
            failed.error.status(),
            http::StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    fn page_in(dir: &std::path::Path, body: &[u8]) -> Result<Parsed<DatapointChunk>, Failed> {
        let mut n = 0;
        let mut open = |name: &str| {
            n += 1;
            let path = dir.join(format!("{n}-{name}.json"));
            File::create(&path).map(|f| (path, f))
        };
        parse_page(body, &mut open)
    }

    #[test]
    fn a_small_page_stays_in_memory_and_a_large_one_goes_to_disk() {
        let dir = temp_dir("pages");
        let body = json!({"isLastPage": true, "data": [{"a": 1}, "b"], "dataPointName": "friends", "x": 1});
        let bytes = serde_json::to_vec(&body).unwrap();
        let parsed = page_in(&dir, &bytes).unwrap();
        let typed: DatapointChunk = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(parsed.value, typed);
        assert!(parsed.spilled.is_empty());

        let rows: Vec<_> = (0..5_000).map(|i| json!({"friend": i})).collect();
        let body = json!({"dataPointName": "friends", "fileId": "page 2", "data": rows});
        let parsed = page_in(&dir, &serde_json::to_vec(&body).unwrap()).unwrap();
        assert!(parsed.value.data.is_empty());
        assert_eq!(parsed.value.file_id.as_deref(), Some("page 2"));
        assert!(!parsed.value.is_last_page);
        let [page] = &parsed.spilled[..] else {
            panic!("{:?}", parsed.spilled)
        };
        let written: Vec<serde_json::Value> =
            serde_json::from_slice(&std::fs::read(&page.path).unwrap()).unwrap();
        assert_eq!(written, rows);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_page_must_name_its_datapoint_and_carry_a_list() {
        let dir = temp_dir("bad-pages");
        for (body, says) in [
            (&br#"{"data":[]}"#[..], "dataPointName"),
            (br#"{"dataPointName":"f"}"#, "data"),
            (br#"{"dataPointName":"f","data":{"a":1}}"#, "list"),
            (br#"{"dataPointName":"","data":[]}"#, "dataPointName"),
            (
                br#"{"dataPointName":"f","data":[],"data":[1]}"#,
                "duplicate field `data`",
            ),
        ] {
            let failed = page_in(&dir, body).unwrap_err();
            assert_eq!(failed.error.status(), http::StatusCode::BAD_REQUEST);
            assert!(failed.error.to_string().contains(says), "{}", failed.error);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
