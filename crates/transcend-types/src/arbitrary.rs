//! proptest strategies for every body and enum (feature `proptest`).
//!
//! `valid_*` strategies produce values that pass [`Validate`]: known
//! enum values only, well-formed dates and codes, never both silo lists. The others also
//! produce what a server may send: unknown enum values, malformed dates.

use proptest::collection::{btree_map, vec};
use proptest::option::of as maybe;
use proptest::prelude::*;
use serde_json::Value;

use crate::*;

/// Enum values: known ones and, unless `known_only`, strings the enum does not know.
fn wire<T: Clone + std::fmt::Debug + 'static>(
    known: &'static [T],
    parse: fn(&str) -> T,
    known_only: bool,
) -> BoxedStrategy<T> {
    let known_values = proptest::sample::select(known).boxed();
    if known_only {
        known_values
    } else {
        prop_oneof![3 => known_values, 1 => "[A-Z][A-Z_]{0,11}".prop_map(move |s| parse(&s))]
            .boxed()
    }
}

macro_rules! enum_strategies {
    ($($fn_name:ident => $ty:ident;)+) => {
        $(
            #[doc = concat!("[`", stringify!($ty), "`] values: known ones and, unless `known_only`, unknown ones.")]
            pub fn $fn_name(known_only: bool) -> BoxedStrategy<$ty> {
                wire($ty::KNOWN, $ty::parse, known_only)
            }
        )+
    };
}

enum_strategies! {
    request_action => RequestAction;
    request_status => RequestStatus;
    completed_request_status => CompletedRequestStatus;
    restart_identifier_strategy => RestartIdentifierStrategy;
    enrichment_status => EnrichmentStatus;
    access_status => AccessStatus;
    integration_status => IntegrationStatus;
    profile_status => ProfileStatus;
    locale => Locale;
    identifier_type => IdentifierType;
    country => Country;
}

/// Non-empty text, including non-ASCII and characters JSON must escape.
pub fn text() -> BoxedStrategy<String> {
    prop_oneof!["[a-zA-Z0-9 ._@-]{1,16}", "[a-zA-Z\"\\\\/é€😀\u{7f}]{1,8}",].boxed()
}

/// Text that is safe as a header value: non-empty, no control characters, no
/// surrounding whitespace.
pub fn header_text() -> BoxedStrategy<String> {
    "[a-zA-Z0-9._()-]{1,24}".boxed()
}

/// Any JSON value except floats (whose text form is not unique).
pub fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(text(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Timestamps the API writes; unless `valid_only`, also texts that are not dates.
pub fn timestamp(valid_only: bool) -> BoxedStrategy<Timestamp> {
    let valid = (0i64..4_102_444_800, 0u32..1000)
        .prop_map(|(secs, millis)| {
            let at = time::OffsetDateTime::from_unix_timestamp(secs)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
                + time::Duration::milliseconds(i64::from(millis));
            Timestamp::from_datetime(at)
        })
        .boxed();
    if valid_only {
        valid
    } else {
        prop_oneof![3 => valid, 1 => text().prop_map(|s| serde_json::from_value(Value::String(s)).unwrap_or_else(|_| unreachable!()))]
            .boxed()
    }
}

/// Well-formed subdivision codes.
pub fn subdivision() -> BoxedStrategy<CountrySubdivision> {
    (country(true), "[A-Z0-9]{1,3}")
        .prop_filter_map("a known country prefix", |(country, local)| {
            CountrySubdivision::parse(format!("{country}-{local}")).ok()
        })
        .boxed()
}

/// Regions; when `valid_only`, the country always matches the subdivision.
pub fn region(valid_only: bool) -> BoxedStrategy<Region> {
    (maybe(country(valid_only)), maybe(subdivision()))
        .prop_map(move |(country, sub)| {
            let country = match (&country, &sub, valid_only) {
                (_, Some(sub), true) => Some(sub.country()),
                _ => country,
            };
            Region {
                country,
                country_sub_division: sub,
            }
        })
        .boxed()
}

fn extra_identifiers(valid_only: bool) -> BoxedStrategy<AttestedExtraIdentifiers> {
    btree_map(
        identifier_type(valid_only),
        vec((text(), maybe(text())), 1..3),
        0..4,
    )
    .prop_map(|map| {
        AttestedExtraIdentifiers(
            map.into_iter()
                .map(|(kind, ids)| {
                    let named = kind == IdentifierType::Custom;
                    let ids = ids
                        .into_iter()
                        .map(|(value, name)| ExtraIdentifier {
                            value,
                            name: if named {
                                Some(name.unwrap_or_else(|| "username".into()))
                            } else {
                                name
                            },
                        })
                        .collect();
                    (kind, ids)
                })
                .collect(),
        )
    })
    .boxed()
}

/// Subjects.
pub fn subject(valid_only: bool) -> BoxedStrategy<Subject> {
    (
        text(),
        maybe(text()),
        maybe(any::<bool>()),
        maybe(extra_identifiers(valid_only)),
    )
        .prop_map(
            |(core_identifier, email, email_is_verified, attested_extra_identifiers)| Subject {
                core_identifier,
                email,
                email_is_verified,
                attested_extra_identifiers,
            },
        )
        .boxed()
}

fn ids() -> BoxedStrategy<Option<Vec<String>>> {
    maybe(vec(text(), 0..3)).boxed()
}

/// Submissions; `valid_only` ones pass validation.
pub fn submit_dsr(valid_only: bool) -> BoxedStrategy<SubmitDsr> {
    let head = (
        request_action(valid_only),
        subject(valid_only),
        maybe(vec((text(), vec(text(), 0..3)), 0..3)),
        text(),
        maybe(region(valid_only)),
        maybe(any::<bool>()),
        maybe(any::<bool>()),
        maybe(locale(valid_only)),
    );
    let tail = (
        maybe(text()),
        maybe(timestamp(valid_only)),
        (ids(), ids(), any::<bool>()),
        maybe(text()),
        (maybe(any::<bool>()), maybe(any::<bool>())),
        ids(),
        maybe(text()),
        (
            maybe(completed_request_status(valid_only)),
            maybe(restart_identifier_strategy(valid_only)),
        ),
    );
    (head, tail)
        .prop_map(move |(head, tail)| {
            let (action, subject, attributes, subject_type, region, is_silent, is_test, locale) =
                head;
            let (
                details,
                created_at,
                (silos, ignored, keep_silos),
                template,
                skips,
                checks,
                request_id,
                (completed, restart),
            ) = tail;
            let restart = if request_id.is_some() { restart } else { None };
            let (data_silo_ids, ignore_data_silo_ids) =
                if valid_only && silos.is_some() && ignored.is_some() {
                    if keep_silos {
                        (silos, None)
                    } else {
                        (None, ignored)
                    }
                } else {
                    (silos, ignored)
                };
            SubmitDsr {
                action,
                subject,
                attributes: attributes.map(|list| {
                    list.into_iter()
                        .map(|(key, values)| Attribute { key, values })
                        .collect()
                }),
                subject_type,
                region,
                is_silent,
                is_test,
                locale,
                details,
                created_at,
                data_silo_ids,
                reply_to_email_addresses: None,
                ignore_data_silo_ids,
                email_receipt_template_id: template,
                skip_waiting_period: skips.0,
                skip_sending_receipt: skips.1,
                skip_enrichment_checks: checks,
                request_id,
                completed_request_status: completed,
                restart_identifier_strategy: restart,
                allow_unlisted_values: false,
            }
        })
        .boxed()
}

/// Status reports, as a server may send them.
pub fn dsr_status() -> BoxedStrategy<DsrStatus> {
    (
        text(),
        request_status(false),
        request_action(false),
        text(),
        maybe(text()),
        text(),
    )
        .prop_map(|(id, status, action, subject_type, email, core)| {
            DsrStatus::new(id, status, action, subject_type, email, core)
        })
        .boxed()
}

/// Submit responses, as a server may send them.
pub fn submit_dsr_response() -> BoxedStrategy<SubmitDsrResponse> {
    let extras = (
        maybe(any::<bool>()),
        maybe(any::<bool>()),
        maybe(vec(text(), 0..2)),
        maybe(text()),
        maybe(country(false)),
        maybe(subdivision()),
        vec((text(), text()), 0..3),
    );
    (dsr_status(), extras)
        .prop_map(
            |(status, (is_silent, is_test, reply_to, link, country, sub, attribute_values))| {
                let mut request = DsrRecord::new(status);
                request.is_silent = is_silent;
                request.is_test = is_test;
                request.reply_to_email_addresses = reply_to;
                request.link = link;
                request.country = country;
                request.country_sub_division = sub;
                request.attribute_values = attribute_values
                    .into_iter()
                    .map(|(key, value)| RequestAttributeValue::new(key, value))
                    .collect();
                SubmitDsrResponse { request }
            },
        )
        .boxed()
}

/// Access uploads.
pub fn access_upload(valid_only: bool) -> BoxedStrategy<AccessUpload> {
    let profile =
        (maybe(text()), btree_map(text(), json_value(), 0..4)).prop_map(|(profile_id, data)| {
            AccessProfile {
                profile_id,
                profile_data: data.into_iter().collect(),
            }
        });
    (maybe(vec(profile, 0..3)), maybe(access_status(valid_only)))
        .prop_map(|(profiles, status)| AccessUpload { profiles, status })
        .boxed()
}

/// Erasure reports.
pub fn erasure_report(valid_only: bool) -> BoxedStrategy<ErasureReport> {
    (
        maybe(vec(text().prop_map(ErasedProfile::new), 0..3)),
        maybe(integration_status(valid_only)),
        maybe(profile_status(valid_only)),
        maybe(text()),
        maybe(text()),
        maybe(timestamp(valid_only)),
    )
        .prop_map(
            |(profiles, status, profile_status, poll_id, message, retry_after_date)| {
                ErasureReport {
                    profiles,
                    status,
                    profile_status,
                    poll_id,
                    message,
                    retry_after_date,
                }
            },
        )
        .boxed()
}

/// The headers of datapoint file uploads.
pub fn datapoint_upload() -> BoxedStrategy<DatapointUpload> {
    (
        header_text(),
        maybe(header_text()),
        maybe(header_text()),
        any::<bool>(),
    )
        .prop_map(
            |(datapoint_name, remote_id, profile_id, skip_status_update)| DatapointUpload {
                datapoint_name,
                remote_id,
                profile_id,
                skip_status_update,
            },
        )
        .boxed()
}

/// Pages of a chunked datapoint upload.
pub fn datapoint_chunk() -> BoxedStrategy<DatapointChunk> {
    (
        text(),
        vec(json_value(), 0..4),
        maybe(text()),
        any::<bool>(),
    )
        .prop_map(
            |(datapoint_name, data, file_id, is_last_page)| DatapointChunk {
                datapoint_name,
                data,
                file_id,
                is_last_page,
            },
        )
        .boxed()
}

/// Webhook job bodies, including sparse old-style deliveries.
pub fn dsr_job() -> BoxedStrategy<DsrJob> {
    let request = (
        maybe(text()),
        maybe(text()),
        maybe(timestamp(false)),
        maybe(locale(false)),
        maybe(text()),
        maybe(text()),
    )
        .prop_map(
            |(id, link, created_at, locale, details, origin)| JobRequest {
                id,
                link,
                created_at,
                locale,
                details,
                origin,
            },
        );
    let silo = (maybe(text()), maybe(text()), maybe(text()), maybe(text())).prop_map(
        |(id, title, description, link)| JobDataSilo {
            id,
            title,
            description,
            link,
        },
    );
    let organization = (maybe(text()), maybe(text()), maybe(text()))
        .prop_map(|(id, name, uri)| JobOrganization { id, name, uri });
    let profile = (text(), identifier_type(false))
        .prop_map(|(identifier, kind)| JobProfile::new(identifier, kind));
    let extras = (
        maybe(profile),
        maybe(request),
        maybe(silo),
        maybe(organization),
    )
        .prop_map(|(profile, request, data_silo, organization)| JobExtras {
            profile,
            request,
            data_silo,
            organization,
        });
    (
        request_action(false),
        maybe(text()),
        maybe(text()),
        maybe(any::<bool>()),
        maybe(extras),
    )
        .prop_map(|(action, core, subject_type, is_test, extras)| DsrJob {
            action,
            core_identifier: core.map(CoreIdentifier::new),
            data_subject: subject_type.map(DataSubject::new),
            is_test,
            extras,
        })
        .boxed()
}

/// Error bodies.
pub fn error_body() -> BoxedStrategy<ErrorBody> {
    text().prop_map(ErrorBody::new).boxed()
}

/// Pages of a request's identifiers.
pub fn request_identifiers_page() -> BoxedStrategy<RequestIdentifiersPage> {
    let identifier = (
        maybe(text()),
        maybe(text()),
        text(),
        maybe(identifier_type(false)),
    )
        .prop_map(|(id, name, value, identifier_type)| RequestIdentifier {
            id,
            name,
            value,
            identifier_type,
        });
    vec(identifier, 0..4)
        .prop_map(RequestIdentifiersPage::new)
        .boxed()
}

/// Queries for a page of a request's identifiers; valid ones ask for 1 to 100.
pub fn request_identifiers_query() -> BoxedStrategy<RequestIdentifiersQuery> {
    (text(), 1u32..=100, any::<u32>())
        .prop_map(|(id, first, offset)| RequestIdentifiersQuery::new(id, first, offset))
        .boxed()
}

/// Pages of download keys.
pub fn download_keys_page() -> BoxedStrategy<DownloadKeysPage> {
    let key = (
        text(),
        maybe(text()),
        maybe(text()),
        maybe(any::<u64>()),
        (maybe(text()), maybe(text())),
    )
        .prop_map(
            |(download_key, error, mimetype, size, (file_name, data_point))| {
                let mut key = DownloadKey::new(download_key);
                key.error = error;
                key.mimetype = mimetype;
                key.size = size;
                key.file_name = file_name;
                key.data_point = data_point;
                key
            },
        );
    (
        vec(key, 0..4),
        maybe(any::<u64>()),
        maybe((maybe(text()), maybe(text()))),
    )
        .prop_map(|(nodes, total_count, links)| DownloadKeysPage {
            nodes,
            total_count,
            links: links.map(|(next, previous)| PageLinks { next, previous }),
        })
        .boxed()
}

/// Pages of pending jobs of a cron silo.
pub fn pending_requests_page() -> BoxedStrategy<PendingRequestsPage> {
    let item = (
        (
            text(),
            maybe(identifier_type(false)),
            maybe(text()),
            maybe(text()),
        ),
        (
            maybe(text()),
            text(),
            maybe(timestamp(true)),
            maybe(any::<i64>()),
        ),
        maybe(vec((text(), vec(text(), 0..3)), 0..3)),
        maybe((maybe(text()), maybe(text()), maybe(text()))),
    )
        .prop_map(|(head, middle, attributes, partition)| {
            let (identifier, identifier_type, core_identifier, data_silo_id) = head;
            let (request_id, nonce, request_created_at, days_until_overdue) = middle;
            let mut item = PendingRequest::new(identifier, nonce);
            item.identifier_type = identifier_type;
            item.core_identifier = core_identifier;
            item.data_silo_id = data_silo_id;
            item.request_id = request_id;
            item.request_created_at = request_created_at;
            item.days_until_overdue = days_until_overdue;
            item.attributes = attributes.map(|list| {
                list.into_iter()
                    .map(|(key, values)| RequestAttribute::new(key, values))
                    .collect()
            });
            item.partition = partition.map(|(id, name, partition)| Partition {
                id,
                name,
                partition,
            });
            item
        });
    vec(item, 0..4).prop_map(PendingRequestsPage::new).boxed()
}

/// Enrichments (`POST /v1/enrich-identifiers`); valid ones add identifiers or decide.
pub fn enrich_identifiers(valid_only: bool) -> BoxedStrategy<EnrichIdentifiers> {
    let identifier =
        (text(), maybe(text()), maybe(text())).prop_map(|(value, country_code, name)| {
            let mut identifier = EnrichedIdentifier::new(value);
            identifier.country_code = country_code;
            identifier.name = name;
            identifier
        });
    (
        proptest::collection::btree_map(identifier_type(valid_only), vec(identifier, 1..3), 1..3),
        maybe(enrichment_status(valid_only)),
        maybe(text()),
        maybe(text()),
    )
        .prop_map(
            |(identifiers, status, template_id, template_title)| EnrichIdentifiers {
                enriched_identifiers: Some(identifiers),
                status,
                template_id,
                template_title,
            },
        )
        .boxed()
}
