//! The server side as a whole: a test double implementing `Service`, driven through
//! `dispatch` with requests built by the client side.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use transcend_proto::endpoint::download_file::{self, DownloadFileEndpoint, FileHead};
use transcend_proto::endpoint::download_keys::{DownloadKeysEndpoint, DownloadKeysQuery};
use transcend_proto::endpoint::enrich_identifiers::Enrichment;
use transcend_proto::endpoint::pending_requests::PendingRequestsQuery;
use transcend_proto::endpoint::signing_key::SigningKeyPem;
use transcend_proto::endpoint::submit_dsr::SubmitDsrEndpoint;
use transcend_proto::endpoint::upload_access::UploadAccessEndpoint;
use transcend_proto::endpoint::upload_datapoint;
use transcend_proto::server::{Credentials, Reply, ServerError, read_json};
use transcend_proto::types::{
    AccessProfile, AccessUpload, DatapointChunk, DatapointUpload, DownloadKeysPage, DsrRecord,
    DsrStatus, ErasureReport, PendingRequestsPage, RequestAction, RequestIdentifiersPage,
    RequestIdentifiersQuery, RequestStatus, Subject, SubmitDsr, SubmitDsrResponse,
};
use transcend_proto::{Accepted, Config, Endpoint, Nonce, Report, Route, Service, dispatch};

/// A body that records whether anyone read it.
struct Watched {
    bytes: Option<Bytes>,
    read: Arc<AtomicBool>,
}

impl Body for Watched {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.read.store(true, Ordering::SeqCst);
        Poll::Ready(self.bytes.take().map(|b| Ok(Frame::data(b))))
    }
}

fn watched(request: Request<Bytes>) -> (Request<Watched>, Arc<AtomicBool>) {
    let read = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&read);
    (
        request.map(|bytes| Watched {
            bytes: Some(bytes),
            read: flag,
        }),
        read,
    )
}

/// Accepts the key `good` for everything but uploads, and records what it was given.
#[derive(Default)]
struct Double {
    calls: Mutex<Vec<String>>,
    uploaded: Mutex<Vec<u8>>,
}

impl Double {
    fn called(&self, what: String) {
        self.calls.lock().unwrap().push(what);
    }
}

impl Service<Watched> for Double {
    type Caller = String;
    type FileBody = Full<Bytes>;

    async fn authorize(
        &self,
        route: Route,
        credentials: Credentials,
    ) -> Result<String, ServerError> {
        match credentials.api_key {
            Some(key) if key.expose() == "good" => Ok(format!("{route:?}")),
            _ => Err(ServerError::Unauthorized {
                message: "bad key".into(),
            }),
        }
    }

    fn body_limit(&self) -> u64 {
        1024
    }

    async fn submit_dsr(
        &self,
        caller: String,
        dsr: SubmitDsr,
    ) -> Result<SubmitDsrResponse, ServerError> {
        self.called(format!("{caller} {}", dsr.subject.core_identifier));
        let status = DsrStatus::new(
            "id-1",
            RequestStatus::Compiling,
            dsr.action,
            dsr.subject_type,
            None,
            dsr.subject.core_identifier,
        );
        let record = DsrRecord::new(status);
        Ok(SubmitDsrResponse::new(record))
    }

    async fn get_dsr(&self, caller: String, id: String) -> Result<DsrStatus, ServerError> {
        self.called(format!("{caller} {id}"));
        Err(ServerError::NotFound {
            what: format!("no request {id}"),
        })
    }

    async fn upload_access(
        &self,
        caller: String,
        nonce: Nonce,
        body: Watched,
    ) -> Result<Accepted, ServerError> {
        let upload: AccessUpload = read_json(body, self.body_limit()).await?;
        let profiles = upload.profiles.map_or(0, |p| p.len());
        self.called(format!("{caller} {} {profiles}", nonce.expose()));
        Ok(Accepted)
    }

    async fn report_erasure(
        &self,
        caller: String,
        _: Report<ErasureReport>,
    ) -> Result<Accepted, ServerError> {
        self.called(caller);
        Ok(Accepted)
    }

    async fn upload_datapoint(
        &self,
        caller: String,
        report: Report<DatapointUpload>,
        body: Watched,
    ) -> Result<Accepted, ServerError> {
        self.called(format!("{caller} {}", report.body.datapoint_name));
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        self.uploaded.lock().unwrap().extend_from_slice(&bytes);
        Ok(Accepted)
    }

    async fn upload_datapoint_chunked(
        &self,
        caller: String,
        _: Nonce,
        body: Watched,
    ) -> Result<Accepted, ServerError> {
        let _: DatapointChunk = read_json(body, self.body_limit()).await?;
        self.called(caller);
        Ok(Accepted)
    }

    async fn download_file(
        &self,
        caller: String,
        key: String,
    ) -> Result<(FileHead, Full<Bytes>), ServerError> {
        self.called(format!("{caller} {key}"));
        Ok((
            FileHead::new("text/plain", Some(5)).file_name("a.txt"),
            Full::new(Bytes::from_static(b"hello")),
        ))
    }

    async fn enrich_identifiers(
        &self,
        caller: String,
        enrichment: Enrichment,
    ) -> Result<Accepted, ServerError> {
        self.called(format!("{caller} {:?}", enrichment.target));
        Ok(Accepted)
    }

    async fn pending_requests(
        &self,
        caller: String,
        query: PendingRequestsQuery,
    ) -> Result<PendingRequestsPage, ServerError> {
        self.called(format!("{caller} {} {}", query.data_silo_id, query.action));
        Ok(PendingRequestsPage::default())
    }

    async fn request_identifiers(
        &self,
        caller: String,
        query: RequestIdentifiersQuery,
    ) -> Result<RequestIdentifiersPage, ServerError> {
        self.called(format!("{caller} {}", query.request_id));
        Ok(RequestIdentifiersPage::default())
    }

    async fn download_keys(
        &self,
        caller: String,
        query: DownloadKeysQuery,
    ) -> Result<DownloadKeysPage, ServerError> {
        self.called(format!(
            "{caller} {} {:?} {:?}",
            query.request_id, query.limit, query.offset
        ));
        Ok(DownloadKeysPage::default())
    }

    async fn signing_key(&self, caller: String, _: ()) -> Result<SigningKeyPem, ServerError> {
        self.called(caller);
        Err(ServerError::Unavailable {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "no key".into(),
        })
    }
}

/// A dispatched answer with its body read.
async fn collected(response: http::Response<Reply<Full<Bytes>>>) -> http::Response<Bytes> {
    let (parts, body) = response.into_parts();
    http::Response::from_parts(parts, body.collect().await.unwrap().to_bytes())
}

fn config(key: &str) -> Config {
    Config::new(key)
}

fn dsr() -> SubmitDsr {
    SubmitDsr::new(RequestAction::Access, Subject::new("person-1"), "customer")
}

#[tokio::test]
async fn a_call_is_routed_read_once_and_answered() {
    let double = Double::default();
    let request = SubmitDsrEndpoint::build_request(&config("good"), &dsr()).unwrap();
    let (request, read) = watched(request);
    let response = dispatch(&double, request).await;
    assert!(read.load(Ordering::SeqCst));
    let created = SubmitDsrEndpoint::parse_response(collected(response).await).unwrap();
    assert_eq!(created.request.id, "id-1");
    assert_eq!(*double.calls.lock().unwrap(), ["SubmitDsr person-1"]);
}

#[tokio::test]
async fn a_refused_caller_is_answered_before_the_body_is_read() {
    let double = Double::default();
    let request = SubmitDsrEndpoint::build_request(&config("bad"), &dsr()).unwrap();
    let (request, read) = watched(request);
    let response = dispatch(&double, request).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        !read.load(Ordering::SeqCst),
        "the body of a refused caller is never read"
    );
    assert!(double.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_paths_and_methods_are_answered_without_the_service() {
    let double = Double::default();
    let request = Request::builder()
        .uri("/v1/nothing")
        .body(Bytes::new())
        .unwrap();
    assert_eq!(
        dispatch(&double, watched(request).0).await.status(),
        StatusCode::NOT_FOUND
    );
    let request = Request::builder()
        .method(Method::DELETE)
        .uri("/v1/data-silo")
        .body(Bytes::new())
        .unwrap();
    let response = dispatch(&double, watched(request).0).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST, PUT");
    assert!(double.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_declared_or_not() {
    let double = Double::default();
    let big = SubmitDsr::new(
        RequestAction::Access,
        Subject::new("x".repeat(2000)),
        "customer",
    );
    let request = SubmitDsrEndpoint::build_request(&config("good"), &big).unwrap();
    assert_eq!(
        dispatch(&double, watched(request.clone()).0).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let (mut undeclared, _) = watched(request);
    undeclared.headers_mut().remove("content-length");
    assert_eq!(
        dispatch(&double, undeclared).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );

    let upload = Report::new("n", DatapointUpload::new("files"));
    let request = upload_datapoint::build_streamed_request(
        &config("good"),
        &upload,
        Bytes::new(),
        Some(5000),
    )
    .unwrap();
    let refused = dispatch(&double, watched(request).0).await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The body was left unread: the client must not reuse the connection.
    assert_eq!(refused.headers()["connection"], "close");
    assert!(double.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_json_stream_row_hands_over_the_head_and_the_unread_body() {
    let double = Double::default();
    let upload = AccessUpload::ready(vec![
        AccessProfile::new("p1").datapoint("name", serde_json::json!("Ada")),
    ]);
    let request =
        UploadAccessEndpoint::build_request(&config("good"), &Report::new("n-1", upload)).unwrap();
    let (request, read) = watched(request);
    let response = dispatch(&double, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(read.load(Ordering::SeqCst));
    assert_eq!(*double.calls.lock().unwrap(), ["UploadAccess n-1 1"]);

    // Over the limit by its declared length: refused before the body is touched.
    let big = AccessUpload::ready(vec![
        AccessProfile::new("p1").datapoint("name", serde_json::json!("x".repeat(2000))),
    ]);
    let request =
        UploadAccessEndpoint::build_request(&config("good"), &Report::new("n-2", big)).unwrap();
    let (request, read) = watched(request);
    let refused = dispatch(&double, request).await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        !read.load(Ordering::SeqCst),
        "a declared oversize body is not read"
    );

    // Without a nonce the head is refused, and no body is read either.
    let mut request = UploadAccessEndpoint::build_request(
        &config("good"),
        &Report::new("n-3", AccessUpload::not_found()),
    )
    .unwrap();
    request.headers_mut().remove("x-transcend-nonce");
    let (request, read) = watched(request);
    assert_eq!(
        dispatch(&double, request).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert!(!read.load(Ordering::SeqCst));

    // Read whole by `read_json`: a bad value is named as a buffered row names it.
    let request = Request::post("/v1/data-silo")
        .header("authorization", "Bearer good")
        .header("x-transcend-nonce", "n-4")
        .body(Bytes::from_static(
            br#"{"profiles":[{"profileId":"","profileData":{}}]}"#,
        ))
        .unwrap();
    let response = dispatch(&double, watched(request).0).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = collected(response).await.into_body();
    assert!(String::from_utf8_lossy(&body).contains("profiles[0].profileId"));
    assert_eq!(double.calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_malformed_body_names_where_it_breaks() {
    let double = Double::default();
    let request = Request::post("/v1/data-subject-request")
        .header("authorization", "Bearer good")
        .body(Bytes::from_static(
            br#"{"type":"ACCESS","subject":{"coreIdentifier":7}}"#,
        ))
        .unwrap();
    let response = dispatch(&double, watched(request).0).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = collected(response).await.into_body();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("subject.coreIdentifier"), "{text}");
}

#[tokio::test]
async fn a_streamed_upload_reaches_the_service_unread() {
    let double = Double::default();
    let upload = Report::new("n", DatapointUpload::new("photo"));
    let request = upload_datapoint::build_streamed_request(
        &config("good"),
        &upload,
        Bytes::from_static(b"JPEG"),
        Some(4),
    )
    .unwrap();
    let response = dispatch(&double, watched(request).0).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(*double.uploaded.lock().unwrap(), b"JPEG");
    assert_eq!(*double.calls.lock().unwrap(), ["UploadDatapoint photo"]);
}

#[tokio::test]
async fn a_file_is_streamed_with_its_head() {
    let double = Double::default();
    let request =
        DownloadFileEndpoint::build_request(&config("good"), &"k/1+2".to_owned()).unwrap();
    assert_eq!(
        request.uri().path_and_query().unwrap().as_str(),
        download_file::path("k/1+2")
    );
    let response = dispatch(&double, watched(request).0).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-length"], "5");
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"a.txt\""
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "hello");
    assert_eq!(*double.calls.lock().unwrap(), ["DownloadFile k/1+2"]);
}

#[tokio::test]
async fn query_parameters_are_read_and_bad_ones_named() {
    let double = Double::default();
    let query = DownloadKeysQuery::new("r 1").page(20, 40);
    let request = DownloadKeysEndpoint::build_request(&config("good"), &query).unwrap();
    assert_eq!(
        request.uri().path_and_query().unwrap(),
        "/v1/data-subject-request/r%201/download-keys?limit=20&offset=40"
    );
    assert_eq!(
        dispatch(&double, watched(request).0).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        *double.calls.lock().unwrap(),
        ["DownloadKeys r 1 Some(20) Some(40)"]
    );
    let request = Request::get("/v1/data-subject-request/r/download-keys?limit=lots")
        .header("authorization", "Bearer good")
        .body(Bytes::new())
        .unwrap();
    let response = dispatch(&double, watched(request).0).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(collected(response).await.body()).contains("limit"));
}

#[tokio::test]
async fn path_parameters_and_service_errors_pass_through() {
    let double = Double::default();
    let request = transcend_proto::endpoint::get_dsr::GetDsrEndpoint::build_request(
        &config("good"),
        &"a b".to_owned(),
    )
    .unwrap();
    let response = dispatch(&double, watched(request).0).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(*double.calls.lock().unwrap(), ["GetDsr a b"]);
    let _ = Full::new(Bytes::new());
}
