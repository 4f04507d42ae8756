//! The admin API's queries.

use async_graphql::{Context, ID, Object};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::enums::{AttributeKeyType, EnricherType, RequestAction, RequestEnricherStatus};
use super::inputs::{
    AttributeKeyOrder, AttributeKeysFiltersInput, BulkCompletionReducedRequestInput,
    InternalSubjectsFiltersInput, RequestDataSiloFiltersInput, RequestDataSiloOrder,
    RequestEnricherOrder, RequestEnrichersFiltersInput, RequestEnrichersInput, RequestFiltersInput,
    RequestIdentifierOrder, RequestIdentifiersFiltersInput, RequestIdentifiersInput, RequestOrder,
    TemplateFiltersInput, TemplateOrder, descending,
};
use super::objects::{
    Action, AiSetting, AttributeKey, AttributeKeysPayload, DataSubjectInternal, DefinedMessage,
    DsrFormIdentifier, Enricher, ListReducedRequestsForDataSiloPayload, Message, Organization,
    PageInfo, RequestDataSilo, RequestDataSilosPayload, RequestEnricher, RequestEnrichersPayload,
    RequestIdentifier, RequestIdentifiersPayload, RequestNode, RequestsPayload, Sombra, Template,
    TemplatesPayload,
};
use super::{invalid, not_found, require, shared_of};
use crate::config::Scope;
use crate::state::Shared;
use crate::store::CursorKey;
use crate::view::JobStatus;

/// The most a list answers at once (`first`).
const MAX_FIRST: i32 = 100;

/// The admin API's queries.
pub(crate) struct Query;

/// `first` and `offset` checked: at most 100, neither negative.
fn window(first: Option<i32>, offset: Option<i32>) -> async_graphql::Result<(usize, usize)> {
    let first = first.unwrap_or(MAX_FIRST);
    if !(0..=MAX_FIRST).contains(&first) {
        return Err(invalid(format!(
            "first must be between 0 and {MAX_FIRST}, not {first}"
        )));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(invalid(format!(
            "offset must not be negative, not {offset}"
        )));
    }
    Ok((first as usize, offset as usize))
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A cursor names the last request of a page: its `createdAt` and `id`.
pub(crate) fn cursor_of(key: &CursorKey) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}\n{}", key.0.as_str(), key.1))
}

fn key_of(cursor: &str) -> Option<CursorKey> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (created_at, id) = text.split_once('\n')?;
    let created_at = transcend_proto::types::Timestamp::parse(created_at).ok()?;
    Some((created_at, id.to_owned()))
}

fn silo_title(shared: &Shared, id: &str) -> String {
    shared
        .config
        .data_silos
        .iter()
        .find(|s| s.id == id && !s.title.is_empty())
        .map_or_else(|| id.to_owned(), |s| s.title.clone())
}

/// Whether an enricher has no webhook (a person enriches by hand).
pub(crate) fn is_manual(shared: &Shared, enricher: &str) -> bool {
    shared
        .config
        .enrichers
        .iter()
        .any(|e| e.id == enricher && e.is_manual())
}

/// The page of `items` at `offset`, `first` long.
fn page_of<T>(items: Vec<T>, first: usize, offset: usize) -> Vec<T> {
    items.into_iter().skip(offset).take(first).collect()
}

#[Object]
impl Query {
    /// Requests matching a filter, by cursor (`after`) or offset.
    #[allow(clippy::too_many_arguments)]
    async fn requests(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        before: Option<String>,
        after: Option<String>,
        #[graphql(default = 0)] offset: Option<i32>,
        filter_by: Option<RequestFiltersInput>,
        order_by: Option<Vec<RequestOrder>>,
        use_master: Option<bool>,
        is_export_csv: Option<bool>,
    ) -> async_graphql::Result<RequestsPayload> {
        let _ = (last, before, use_master, is_export_csv);
        require(ctx, Scope::View)?;
        let shared = shared_of(ctx)?;
        let (first, offset) = window(first, offset)?;
        let query = filter_by.unwrap_or_default().query()?;
        let descending = descending(&order_by)?;
        let after = after
            .map(|cursor| key_of(&cursor).ok_or_else(|| invalid("invalid cursor")))
            .transpose()?;
        let store_query = query.clone();
        let shared_for_page = std::sync::Arc::clone(shared);
        // A page is found under the store's lock: off the server's threads.
        let page = tokio::task::spawn_blocking(move || {
            shared_for_page.store.admin_page(
                &store_query,
                after.as_ref(),
                offset,
                first,
                descending,
            )
        })
        .await
        .map_err(|_| invalid("the page could not be read"))?;
        Ok(RequestsPayload {
            page_info: PageInfo {
                end_cursor: page.last.as_ref().map(cursor_of),
                has_next_page: page.has_next,
            },
            nodes: page.records.into_iter().map(RequestNode::from).collect(),
            query,
        })
    }

    /// One request.
    async fn request(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<RequestNode> {
        require(ctx, Scope::View)?;
        let shared = shared_of(ctx)?;
        shared
            .store
            .admin_record(&id)
            .map(RequestNode::from)
            .ok_or_else(|| not_found(format!("Request {} not found", id.0)))
    }

    /// Each data silo's part of requests.
    #[allow(clippy::too_many_arguments)]
    async fn request_data_silos(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        #[graphql(default = 0)] offset: Option<i32>,
        last: Option<i32>,
        use_master: Option<bool>,
        is_export_csv: Option<bool>,
        filter_by: RequestDataSiloFiltersInput,
        order_by: Option<Vec<RequestDataSiloOrder>>,
    ) -> async_graphql::Result<RequestDataSilosPayload> {
        let _ = (last, use_master, is_export_csv, order_by);
        require(ctx, Scope::View)?;
        let shared = shared_of(ctx)?;
        let (first, offset) = window(first, offset)?;
        let mut statuses: Option<Vec<JobStatus>> = filter_by
            .status
            .as_ref()
            .map(|s| s.iter().flat_map(|s| s.jobs().iter().copied()).collect());
        if let Some(visual) = filter_by.visual_status {
            let jobs = super::enums::RequestDataSiloStatus::from_wire(visual.as_wire())
                .map(|s| s.jobs().to_vec())
                .unwrap_or_default();
            statuses = Some(match statuses {
                Some(s) => s.into_iter().filter(|j| jobs.contains(j)).collect(),
                None => jobs,
            });
        }
        let request_statuses: Option<Vec<_>> = filter_by
            .request_status
            .as_ref()
            .map(|s| s.iter().map(|s| (*s).into()).collect());
        let (parts, total) = shared.store.silo_parts(
            filter_by.request_id.as_ref().map(|id| id.as_str()),
            filter_by.data_silo_id.as_ref().map(|id| id.as_str()),
            statuses.as_deref(),
            request_statuses.as_deref(),
            offset,
            first,
        );
        Ok(RequestDataSilosPayload {
            nodes: parts
                .into_iter()
                .map(|part| {
                    let title = silo_title(shared, &part.data_silo_id);
                    RequestDataSilo::new(part, title)
                })
                .collect(),
            total_count: count(total),
        })
    }

    /// The enrichers of a request.
    #[allow(clippy::too_many_arguments)]
    async fn request_enrichers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        #[graphql(default = 0)] offset: Option<i32>,
        last: Option<i32>,
        use_master: Option<bool>,
        is_export_csv: Option<bool>,
        filter_by: Option<RequestEnrichersFiltersInput>,
        order_by: Option<Vec<RequestEnricherOrder>>,
        input: RequestEnrichersInput,
    ) -> async_graphql::Result<RequestEnrichersPayload> {
        let _ = (last, use_master, is_export_csv, order_by);
        require(ctx, Scope::View)?;
        let shared = shared_of(ctx)?;
        let (first, offset) = window(first, offset)?;
        let parts = shared
            .store
            .enricher_parts(&input.request_id)
            .ok_or_else(|| not_found(format!("Request {} not found", input.request_id.0)))?;
        let statuses = filter_by.and_then(|f| f.statuses);
        let nodes: Vec<RequestEnricher> = parts
            .into_iter()
            .map(|part| {
                let manual = is_manual(shared, &part.enricher_id);
                RequestEnricher::new(part, manual)
            })
            .filter(|node| {
                statuses
                    .as_ref()
                    .is_none_or(|s: &Vec<RequestEnricherStatus>| s.contains(&node.status))
            })
            .collect();
        let total = count(nodes.len());
        Ok(RequestEnrichersPayload {
            nodes: page_of(nodes, first, offset),
            total_count: total,
        })
    }

    /// The identifiers of requests.
    #[allow(clippy::too_many_arguments)]
    async fn request_identifiers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        before: Option<String>,
        after: Option<String>,
        #[graphql(default = 0)] offset: Option<i32>,
        use_master: Option<bool>,
        is_export_csv: Option<bool>,
        filter_by: Option<RequestIdentifiersFiltersInput>,
        order_by: Option<Vec<RequestIdentifierOrder>>,
        input: RequestIdentifiersInput,
    ) -> async_graphql::Result<RequestIdentifiersPayload> {
        let _ = (last, before, after, use_master, is_export_csv, order_by);
        require(ctx, Scope::View)?;
        let shared = shared_of(ctx)?;
        let (first, offset) = window(first, offset)?;
        let mut nodes = Vec::new();
        for id in input.request_ids.unwrap_or_default() {
            let parts = shared
                .store
                .identifier_parts(&id)
                .ok_or_else(|| not_found(format!("Request {} not found", id.0)))?;
            nodes.extend(parts.into_iter().map(RequestIdentifier::from));
        }
        if let Some(filter) = filter_by {
            nodes.retain(|node| {
                filter
                    .is_verified_at_least_once
                    .is_none_or(|v| node.is_verified_at_least_once == v)
                    && filter
                        .identifier_name
                        .as_ref()
                        .is_none_or(|n| node.name.as_ref() == Some(n))
                    && filter
                        .identifier_names
                        .as_ref()
                        .is_none_or(|names| node.name.as_ref().is_some_and(|n| names.contains(n)))
                    && filter
                        .text
                        .as_ref()
                        .is_none_or(|t| node.value.contains(t.as_str()))
            });
        }
        let total = count(nodes.len());
        Ok(RequestIdentifiersPayload {
            nodes: page_of(nodes, first, offset),
            total_count: total,
        })
    }

    /// E-mail templates.
    #[allow(clippy::too_many_arguments)]
    async fn templates(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        #[graphql(default = 0)] offset: Option<i32>,
        last: Option<i32>,
        use_master: Option<bool>,
        is_export_csv: Option<bool>,
        order_by: Option<Vec<TemplateOrder>>,
        filter_by: Option<TemplateFiltersInput>,
    ) -> async_graphql::Result<TemplatesPayload> {
        let _ = (last, use_master, is_export_csv, order_by);
        require(ctx, Scope::View)?;
        let shared = shared_of(ctx)?;
        let (first, offset) = window(first, offset)?;
        let text = filter_by
            .and_then(|f| f.text)
            .map(|t| t.to_lowercase())
            .unwrap_or_default();
        let nodes: Vec<Template> = shared
            .config
            .admin
            .templates
            .iter()
            .enumerate()
            .filter(|(_, t)| t.title.to_lowercase().contains(&text))
            .map(|(n, t)| Template {
                id: ID(format!("template-{n}")),
                title: t.title.clone(),
                subject: Message {
                    id: ID(format!("template-{n}-subject")),
                    default_message: t.subject.clone(),
                },
                template: Message {
                    id: ID(format!("template-{n}-body")),
                    default_message: t.body.clone(),
                },
            })
            .collect();
        let total = count(nodes.len());
        Ok(TemplatesPayload {
            nodes: page_of(nodes, first, offset),
            total_count: total,
        })
    }

    /// The organization, and where its Sombra is: this emulator.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        require(ctx, Scope::View)?;
        let shared = shared_of(ctx)?;
        let sombra = Sombra {
            id: ID(EMULATOR_SOMBRA_ID.into()),
            customer_url: shared.base_url.clone(),
            version: Some(shared.config.admin.sombra_version.clone()),
        };
        let ai = shared.config.admin.ai_setting;
        Ok(Organization {
            sombras: vec![sombra.clone()],
            sombra,
            ai_setting: Some(AiSetting {
                is_ai_enabled: ai.is_ai_enabled,
                is_mcp_sombra_enabled: ai.is_mcp_sombra_enabled,
            }),
        })
    }

    /// How many jobs a data silo has (open or resolved).
    async fn list_reduced_requests_for_data_silo(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        #[graphql(default = 0)] offset: Option<i32>,
        last: Option<i32>,
        input: BulkCompletionReducedRequestInput,
    ) -> async_graphql::Result<ListReducedRequestsForDataSiloPayload> {
        let _ = (first, offset, last);
        require(ctx, Scope::View)?;
        let shared = shared_of(ctx)?;
        let action = input
            .request_type
            .map(transcend_proto::types::RequestAction::from);
        let total = shared.store.count_jobs(
            input.data_silo_id.as_ref().map(|id| id.as_str()),
            input.is_resolved,
            action.as_ref(),
        );
        Ok(ListReducedRequestsForDataSiloPayload {
            total_count: count(total),
        })
    }

    /// The organization's custom fields.
    #[allow(clippy::too_many_arguments)]
    async fn attribute_keys(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        #[graphql(default = 0)] offset: Option<i32>,
        last: Option<i32>,
        use_master: Option<bool>,
        is_export_csv: Option<bool>,
        filter_by: Option<AttributeKeysFiltersInput>,
        order_by: Option<Vec<AttributeKeyOrder>>,
    ) -> async_graphql::Result<AttributeKeysPayload> {
        let _ = (last, use_master, is_export_csv, order_by, filter_by);
        require(ctx, Scope::View)?;
        let shared = shared_of(ctx)?;
        let (first, offset) = window(first, offset)?;
        let nodes: Vec<AttributeKey> = shared
            .config
            .admin
            .attribute_keys
            .iter()
            .map(|key| {
                let kind = AttributeKeyType::from_wire(&key.kind).unwrap_or(AttributeKeyType::Text);
                AttributeKey::named(&key.name, kind)
            })
            .collect();
        let total = count(nodes.len());
        Ok(AttributeKeysPayload {
            nodes: page_of(nodes, first, offset),
            total_count: total,
        })
    }

    /// The organization's data subject types.
    async fn internal_subjects(
        &self,
        ctx: &Context<'_>,
        filter_by: Option<InternalSubjectsFiltersInput>,
    ) -> async_graphql::Result<Vec<DataSubjectInternal>> {
        require(ctx, Scope::View)?;
        let shared = shared_of(ctx)?;
        let text = filter_by.and_then(|f| f.text).unwrap_or_default();
        Ok(shared
            .config
            .admin
            .subject_types
            .iter()
            .filter(|t| t.contains(text.as_str()))
            .map(|kind| DataSubjectInternal {
                id: ID(format!("subject-{kind}")),
                kind: kind.clone(),
                title: DefinedMessage {
                    id: format!("subject-{kind}-title"),
                    default_message: kind.clone(),
                },
                actions: [RequestAction::Access, RequestAction::Erasure]
                    .into_iter()
                    .map(|action| Action {
                        id: ID(format!("subject-{kind}-{}", action.as_wire())),
                        action,
                    })
                    .collect(),
                supports_authorized_agent: false,
                active: true,
                admin_dashboard_default_silent_mode: false,
            })
            .collect())
    }

    /// The enricher that collects identifiers when a request is made, with every
    /// identifier the organization's data silos use.
    async fn initializer(&self, ctx: &Context<'_>) -> async_graphql::Result<Enricher> {
        require(ctx, Scope::View)?;
        let shared = shared_of(ctx)?;
        let mut names = vec!["email".to_owned()];
        for silo in &shared.config.data_silos {
            for identifier in &silo.identifiers {
                let name = identifier.to_string();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        Ok(Enricher {
            id: ID(INITIALIZER_ID.into()),
            title: "Initializer".into(),
            identifiers: names
                .into_iter()
                .map(|name| DsrFormIdentifier {
                    id: format!("identifier-{name}"),
                    name,
                })
                .collect(),
            kind: EnricherType::Server,
        })
    }
}

/// The emulator's one Sombra.
const EMULATOR_SOMBRA_ID: &str = "7c7e1d7a-6f1b-4c56-9a53-0d6f2b1e5a01";
/// The emulator's initializer enricher.
const INITIALIZER_ID: &str = "2f0b7e4c-3c5d-4a8e-9e61-5b1d8c2a7f10";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_and_garbage_is_refused() {
        let key = (
            transcend_proto::types::Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap(),
            "r-1".to_owned(),
        );
        assert_eq!(key_of(&cursor_of(&key)), Some(key));
        assert_eq!(key_of("not a cursor"), None);
        assert_eq!(key_of(&URL_SAFE_NO_PAD.encode("no newline")), None);
    }
}
