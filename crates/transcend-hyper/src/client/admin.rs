//! The admin GraphQL API's calls: the same retry loop, timeouts, tracing and
//! redaction as Sombra's, plus the GraphQL-level retries of Transcend's tooling.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use futures_util::{Stream, TryStreamExt};
use http::StatusCode;
use transcend_proto::admin::{
    self, AdminOperation, CommunicationInput, Organization, Page, Request, RequestDataSilo,
    RequestDataSiloFilters, RequestDataSilosPage, RequestEnricher, RequestEnrichersPage,
    RequestFilters, RequestIdentifier, RequestIdentifiersPage, RequestsPage, Template,
    TemplateFilters, UpdateRequestDataSiloStatus, UpdateRequestInput,
};
use transcend_proto::{GraphQlErrorKind, Idempotency, Outcome, RetryDecision};

use super::{Client, Rebuild};
use crate::error::Error;

impl Client {
    /// Runs any operation of [`transcend_proto::admin`] against the backend
    /// (`POST {backend}/graphql`).
    ///
    /// Transport failures, 5xx and 429 statuses are retried as for Sombra's calls. A
    /// GraphQL `Too many requests` waits until `x-ratelimit-reset` (plus 100 ms; 10 s
    /// without the header) and is sent again; other unrecognised GraphQL errors are
    /// sent again with backoff, up to the policy's attempts; invalid operations,
    /// unauthorized keys and "already done" answers are never retried.
    pub async fn admin<O>(&self, input: &O::Input) -> Result<O::Output, Error>
    where
        O: AdminOperation,
        O::Input: Sync,
    {
        let config = self.config();
        let policy = *self.retry_policy();
        let started = Instant::now();
        let deadline = self.timeouts().call.map(|call| started + call);
        let mut attempt = 0u32;
        loop {
            self.wait_for_admin_pause().await;
            let attempts = Rebuild {
                first: Some(admin::build_request::<O>(config, input)?),
                build: || admin::build_request::<O>(config, input),
            };
            // Every admin operation sets a state (approve, cancel, skip…): sending it
            // again after a lost answer does nothing more, or answers "already done".
            let response = self
                .execute(O::NAME, Idempotency::Idempotent, attempts)
                .await?;
            let error = match admin::parse_response::<O, _>(response) {
                Ok(output) => return Ok(output),
                Err(error) => error,
            };
            let Some(graphql) = error.graphql() else {
                return Err(error.into());
            };
            let wait = match graphql.kind {
                // A rate limit is waited out, however often it comes, within the
                // call's time: it says when to come back, so it uses no attempt.
                GraphQlErrorKind::RateLimited => {
                    let until = graphql
                        .wait_from(SystemTime::now())
                        .unwrap_or(transcend_proto::RATE_LIMIT_DEFAULT_WAIT)
                        // Never before the reset; a little after, so the workers
                        // waiting for it do not all come back at once.
                        + Duration::from_millis(fastrand::u64(0..=100));
                    self.pause_admin_calls(Instant::now() + until);
                    crate::metrics::rate_limit_wait(O::NAME, until);
                    until
                }
                GraphQlErrorKind::Other => {
                    attempt += 1;
                    let outcome = Outcome::Status {
                        status: StatusCode::SERVICE_UNAVAILABLE,
                        retry_after: None,
                    };
                    match policy.decide(
                        Idempotency::Idempotent,
                        attempt,
                        outcome,
                        SystemTime::now(),
                        fastrand::f64(),
                    ) {
                        RetryDecision::RetryAfter(wait) => wait,
                        RetryDecision::Stop(_) => return Err(error.into()),
                    }
                }
                _ => return Err(error.into()),
            };
            if deadline.is_some_and(|deadline| Instant::now() + wait > deadline) {
                return Err(error.into());
            }
            tracing::info!(
                operation = O::NAME,
                attempt,
                wait_ms = wait.as_millis() as u64,
                kind = ?graphql.kind,
                "retrying admin operation"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Every admin call of this client (and its clones) waits until `until`.
    fn pause_admin_calls(&self, until: Instant) {
        let mut pause = self
            .inner
            .admin_pause
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if pause.is_none_or(|current| current < until) {
            *pause = Some(until);
        }
    }

    async fn wait_for_admin_pause(&self) {
        let until = *self
            .inner
            .admin_pause
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(until) = until
            && until > Instant::now()
        {
            tokio::time::sleep_until(until.into()).await;
        }
    }

    /// Every request matching `filter`, walked by cursor 100 at a time in the order
    /// `createdAt`, then `id`: requests that change while the walk runs are neither
    /// skipped nor repeated. Pages are asked for as the stream is read.
    pub fn requests(
        &self,
        filter: RequestFilters,
    ) -> impl Stream<Item = Result<Request, Error>> + '_ {
        Walk {
            client: self,
            next: Some(Box::pin(self.requests_page(RequestsPage::first(filter)))),
            ready: std::collections::VecDeque::new(),
            previous: HashSet::new(),
        }
    }

    /// One page of a walk, with the page after it (`None` at the end).
    async fn requests_page(
        &self,
        page: RequestsPage,
    ) -> Result<(Vec<Request>, Option<RequestsPage>), Error> {
        let answer = self.admin::<admin::ListRequests>(&page).await?;
        let next = match (&answer.page_info.end_cursor, answer.page_info.has_next_page) {
            (Some(cursor), true) if !answer.nodes.is_empty() => Some(page.after(cursor)),
            _ => None,
        };
        Ok((answer.nodes, next))
    }

    /// How many requests match `filter` (`requests(first: 0) { totalCount }`).
    pub async fn count_requests(&self, filter: &RequestFilters) -> Result<i32, Error> {
        self.admin::<admin::CountRequests>(filter).await
    }

    /// One request, as the admin API shows it (`request(id)`).
    pub async fn request(&self, id: &str) -> Result<Request, Error> {
        self.admin::<admin::GetRequest>(id).await
    }

    /// Approves a request waiting in `APPROVING` (`approveRequest`); with a template,
    /// the person is e-mailed its text. Any other status fails with an error whose
    /// [`is_already_done`](transcend_proto::Error::is_already_done) is true.
    pub async fn approve_request(
        &self,
        id: &str,
        template: Option<&Template>,
    ) -> Result<Request, Error> {
        self.admin::<admin::ApproveRequest>(&communication(id, template))
            .await
    }

    /// Approves several requests at once (`approveRequests`).
    pub async fn approve_requests(&self, ids: &[&str]) -> Result<Vec<Request>, Error> {
        self.admin::<admin::ApproveRequests>(&admin::ApproveRequestsInput::new(ids))
            .await
    }

    /// Cancels an open request (`cancelRequest`), e-mailing the person the template's
    /// text under "Re: " and its subject, as Transcend's CLI does, unless the request is
    /// silent.
    pub async fn cancel_request(
        &self,
        id: &str,
        template: Option<&Template>,
    ) -> Result<Request, Error> {
        self.admin::<admin::CancelRequest>(&communication(id, template))
            .await
    }

    /// Cancels several requests at once (`cancelRequests`).
    pub async fn cancel_requests(
        &self,
        ids: &[&str],
        template: Option<&Template>,
    ) -> Result<Vec<Request>, Error> {
        let mut input = admin::CancelRequestsInput::new(ids);
        if let Some(template) = template {
            input = input.email(
                reply_subject(&template.subject.default_message),
                template.template.default_message.clone(),
            );
        }
        self.admin::<admin::CancelRequests>(&input).await
    }

    /// Changes a request's fields (`updateRequest`).
    pub async fn update_request(&self, input: &UpdateRequestInput) -> Result<Request, Error> {
        self.admin::<admin::UpdateRequest>(input).await
    }

    /// Makes a request silent: the person is sent no more e-mail about it.
    pub async fn mark_silent(&self, id: &str) -> Result<Request, Error> {
        self.update_request(&UpdateRequestInput::new(id).silent(true))
            .await
    }

    /// Extends a request's deadline by `days` and tells the person
    /// (`notifyAdditionalTime`), with the template's text when given.
    pub async fn notify_additional_time(
        &self,
        id: &str,
        days: i32,
        template: Option<&Template>,
    ) -> Result<(), Error> {
        let mut input = admin::AdditionalTimeInput::new(id, days);
        if let Some(template) = template {
            input = input.email(
                reply_subject(&template.subject.default_message),
                template.template.default_message.clone(),
            );
        }
        self.admin::<admin::NotifyAdditionalTime>(&input).await
    }

    /// Puts an open request on hold (`placeRequestOnHold`).
    pub async fn place_request_on_hold(&self, id: &str) -> Result<Request, Error> {
        self.admin::<admin::PlaceRequestOnHold>(id).await
    }

    /// Takes a request off hold (`resumeRequest`).
    pub async fn resume_request(&self, id: &str) -> Result<Request, Error> {
        self.admin::<admin::ResumeRequest>(id).await
    }

    /// Every data silo's part matching `filter` (`requestDataSilos`), 100 a page.
    pub fn request_data_silos(
        &self,
        filter: RequestDataSiloFilters,
    ) -> impl Stream<Item = Result<RequestDataSilo, Error>> + '_ {
        offset_walk(move |offset| {
            let page = RequestDataSilosPage::first(filter.clone()).offset(offset);
            async move {
                let answer = self.admin::<admin::RequestDataSilos>(&page).await?;
                Ok((answer.nodes, answer.total_count))
            }
        })
    }

    /// Sets a data silo's part of a request (`changeRequestDataSiloStatus`): to
    /// `RESOLVED` or `SKIPPED` to unstick a request; once every part is settled the
    /// request moves on.
    pub async fn change_request_data_silo_status(
        &self,
        id: &str,
        status: UpdateRequestDataSiloStatus,
    ) -> Result<RequestDataSilo, Error> {
        let input = admin::UpdateRequestDataSiloStatusInput::new(id, status);
        self.admin::<admin::ChangeRequestDataSiloStatus>(&input)
            .await
    }

    /// Runs a data silo's job again (`retryRequestDataSilo`).
    pub async fn retry_request_data_silo(&self, id: &str) -> Result<RequestDataSilo, Error> {
        self.admin::<admin::RetryRequestDataSilo>(id).await
    }

    /// Every enricher's part of a request (`requestEnrichers`), 100 a page.
    pub fn request_enrichers<'a>(
        &'a self,
        request_id: &'a str,
    ) -> impl Stream<Item = Result<RequestEnricher, Error>> + 'a {
        offset_walk(move |offset| {
            let page = RequestEnrichersPage::first(request_id).offset(offset);
            async move {
                let answer = self.admin::<admin::RequestEnrichers>(&page).await?;
                Ok((answer.nodes, answer.total_count))
            }
        })
    }

    /// Runs an enricher again (`retryRequestEnricher`).
    pub async fn retry_request_enricher(&self, id: &str) -> Result<RequestEnricher, Error> {
        self.admin::<admin::RetryRequestEnricher>(id).await
    }

    /// Skips an enricher (`skipRequestEnricher`); one that finished answers "already
    /// completed" ([`is_already_done`](transcend_proto::Error::is_already_done)).
    pub async fn skip_request_enricher(&self, id: &str) -> Result<RequestEnricher, Error> {
        self.admin::<admin::SkipRequestEnricher>(id).await
    }

    /// Every identifier of a request, with whether each was ever verified
    /// (`requestIdentifiers`), 100 a page.
    pub fn admin_request_identifiers<'a>(
        &'a self,
        request_id: &'a str,
    ) -> impl Stream<Item = Result<RequestIdentifier, Error>> + 'a {
        offset_walk(move |offset| {
            let page = RequestIdentifiersPage::first(request_id).offset(offset);
            async move {
                let answer = self.admin::<admin::RequestIdentifiers>(&page).await?;
                Ok((answer.nodes, answer.total_count))
            }
        })
    }

    /// Removes identifiers from a request (`removeRequestIdentifiers`); how many went.
    pub async fn remove_request_identifiers(
        &self,
        request_id: &str,
        identifier_ids: &[&str],
    ) -> Result<i32, Error> {
        let input = admin::RemoveRequestIdentifiersInput::new(request_id, identifier_ids);
        self.admin::<admin::RemoveRequestIdentifiers>(&input).await
    }

    /// The e-mail templates whose title contains `text` (all of them for `""`).
    pub async fn templates(&self, text: &str) -> Result<Vec<Template>, Error> {
        let filter = TemplateFilters::text(text);
        offset_walk(move |offset| {
            let page = Page::first(filter.clone()).offset(offset);
            async move {
                let answer = self.admin::<admin::Templates>(&page).await?;
                Ok((answer.nodes, answer.total_count))
            }
        })
        .try_collect()
        .await
    }

    /// The template with exactly this title, as Transcend's CLI finds one ("Request
    /// Canceled", "Additional Time Needed"); `None` when there is none.
    pub async fn template_by_title(&self, title: &str) -> Result<Option<Template>, Error> {
        Ok(self
            .templates(title)
            .await?
            .into_iter()
            .find(|template| template.title == title))
    }

    /// The organization of the API key, with where its Sombra is (`organization`).
    pub async fn organization(&self) -> Result<Organization, Error> {
        self.admin::<admin::OrganizationSombra>(&()).await
    }

    /// The same client with its Sombra found through the admin API
    /// (`organization { sombra { customerUrl } }`), as Transcend's tooling finds it:
    /// for a client built without `SOMBRA_URL`. Asked once, here; the calls of the new
    /// client do not ask again.
    pub async fn with_discovered_sombra(&self) -> Result<Client, Error> {
        let organization = self.organization().await?;
        let url = organization.sombra.customer_url;
        let config = self
            .config()
            .clone()
            .with_sombra(transcend_proto::Sombra::Url(url))?;
        Ok(self.with_config(config))
    }
}

fn communication(id: &str, template: Option<&Template>) -> CommunicationInput {
    let input = CommunicationInput::new(id);
    match template {
        Some(template) => input.email(
            reply_subject(&template.subject.default_message),
            template.template.default_message.clone(),
        ),
        None => input,
    }
}

/// The subject of a reply to the person, as Transcend's CLI writes it.
fn reply_subject(subject: &str) -> String {
    format!("Re: {subject}")
}

/// Walks an offset-paged list: asks for pages at growing offsets until one comes back
/// short or the total is reached.
fn offset_walk<'a, T, F, Fut>(fetch: F) -> impl Stream<Item = Result<T, Error>> + 'a
where
    T: 'a,
    F: Fn(i32) -> Fut + 'a,
    Fut: std::future::Future<Output = Result<(Vec<T>, i32), Error>> + 'a,
{
    futures_util::stream::try_unfold((fetch, Some(0i32)), |(fetch, offset)| async move {
        let Some(offset) = offset else {
            return Ok(None);
        };
        let (nodes, total) = fetch(offset).await?;
        let count = nodes.len() as i32;
        let next = offset + count;
        let more = count >= admin::MAX_PAGE && next < total;
        Ok::<_, Error>(Some((
            futures_util::stream::iter(nodes.into_iter().map(Ok)),
            (fetch, more.then_some(next)),
        )))
    })
    .try_flatten()
}

type PageFuture<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<(Vec<Request>, Option<RequestsPage>), Error>>
            + Send
            + 'a,
    >,
>;

/// A walk of requests that asks for the next page as soon as a page arrives, so a
/// consumer working through one page does not wait for the next at its end.
struct Walk<'a> {
    client: &'a Client,
    /// The page being fetched.
    next: Option<PageFuture<'a>>,
    /// Requests of the pages fetched, not yet handed out.
    ready: std::collections::VecDeque<Request>,
    /// The last page's ids: a server that repeats the edge of a page (a cursor on a
    /// value, not a position) would hand the same request twice.
    previous: HashSet<String>,
}

impl Stream for Walk<'_> {
    type Item = Result<Request, Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = self.get_mut();
        // At most one page waits unread: a slow consumer holds one page, not all.
        while this.ready.len() <= admin::MAX_PAGE as usize {
            let Some(fetch) = this.next.as_mut() else {
                break;
            };
            let Poll::Ready(answer) = fetch.as_mut().poll(cx) else {
                break;
            };
            this.next = None;
            match answer {
                Ok((nodes, next)) => {
                    let fresh: Vec<Request> = nodes
                        .into_iter()
                        .filter(|request| !this.previous.contains(request.id()))
                        .collect();
                    this.previous = fresh.iter().map(|r| r.id().to_owned()).collect();
                    this.ready.extend(fresh);
                    // The next page is asked for now (the loop's next turn polls it
                    // once, which sends it); its answer is read when it comes.
                    this.next = next.map(|next| -> PageFuture<'_> {
                        Box::pin(this.client.requests_page(next))
                    });
                }
                Err(error) => {
                    this.ready.clear();
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
        match this.ready.pop_front() {
            Some(request) => Poll::Ready(Some(Ok(request))),
            None if this.next.is_none() => Poll::Ready(None),
            None => Poll::Pending,
        }
    }
}
