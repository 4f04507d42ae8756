//! The builder for everything beyond the required fields of a submission.

use super::{Attribute, SubmitDsr};
use crate::validate::{Validate, ValidationError};
use crate::{CompletedRequestStatus, Locale, Region, RestartIdentifierStrategy, Timestamp};

/// Builds a [`SubmitDsr`]; [`build`](Self::build) validates it.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct SubmitDsrBuilder {
    dsr: SubmitDsr,
}

macro_rules! setters {
    ($($(#[doc = $doc:literal])* $name:ident: $ty:ty => $field:ident;)+) => {
        $(
            $(#[doc = $doc])*
            pub fn $name(mut self, value: impl Into<$ty>) -> Self {
                self.dsr.$field = Some(value.into());
                self
            }
        )+
    };
}

macro_rules! list_setters {
    ($($(#[doc = $doc:literal])* $name:ident => $field:ident;)+) => {
        $(
            $(#[doc = $doc])*
            pub fn $name<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
                self.dsr.$field = Some(values.into_iter().map(Into::into).collect());
                self
            }
        )+
    };
}

impl SubmitDsrBuilder {
    pub(crate) fn new(dsr: SubmitDsr) -> Self {
        Self { dsr }
    }

    setters! {
        /// Sets `region`.
        region: Region => region;
        /// Sets `isSilent`: no emails to the person.
        is_silent: bool => is_silent;
        /// Sets `isTest`: flags the request as a test.
        is_test: bool => is_test;
        /// Sets `locale`.
        locale: Locale => locale;
        /// Sets `details`.
        details: String => details;
        /// Sets `createdAt`: when the request was received.
        created_at: Timestamp => created_at;
        /// Sets `emailReceiptTemplateId`.
        email_receipt_template_id: String => email_receipt_template_id;
        /// Sets `skipWaitingPeriod`.
        skip_waiting_period: bool => skip_waiting_period;
        /// Sets `skipSendingReceipt`.
        skip_sending_receipt: bool => skip_sending_receipt;
        /// Sets `requestId`: restarts that existing request.
        request_id: String => request_id;
        /// Sets `restartIdentifierStrategy` (with `requestId`).
        restart_identifier_strategy: RestartIdentifierStrategy => restart_identifier_strategy;
        /// Sets `completedRequestStatus`: uploads a past request already finished.
        completed_request_status: CompletedRequestStatus => completed_request_status;
    }

    list_setters! {
        /// Sets `dataSiloIds`: only these silos are processed.
        data_silo_ids => data_silo_ids;
        /// Sets `ignoreDataSiloIds`: every silo but these is processed.
        ignore_data_silo_ids => ignore_data_silo_ids;
        /// Sets `replyToEmailAddresses`.
        reply_to_email_addresses => reply_to_email_addresses;
        /// Sets `skipEnrichmentChecks`.
        skip_enrichment_checks => skip_enrichment_checks;
    }

    /// Lets values the reference pages do not list through validation: see
    /// [`SubmitDsr::allow_unlisted_values`].
    pub fn allow_unlisted_values(mut self) -> Self {
        self.dsr.allow_unlisted_values = true;
        self
    }

    /// Adds an attribute (`attributes[]`).
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.dsr
            .attributes
            .get_or_insert_with(Vec::new)
            .push(attribute);
        self
    }

    /// The request, once every rule of the reference page holds.
    pub fn build(self) -> Result<SubmitDsr, ValidationError> {
        self.dsr.validate()?;
        Ok(self.dsr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RequestAction, Subject};

    #[test]
    fn the_builder_sets_fields_and_validates() {
        let dsr = SubmitDsr::builder(RequestAction::Erasure, Subject::new("id-1"), "customer")
            .is_silent(true)
            .details("from the help desk")
            .data_silo_ids(["silo-1"])
            .attribute(Attribute::new("Source", ["Mobile iOS App"]))
            .created_at(Timestamp::parse("2022-03-30T04:56:00.143Z").unwrap())
            .build()
            .unwrap();
        assert_eq!(dsr.is_silent, Some(true));
        assert_eq!(
            dsr.data_silo_ids.as_deref(),
            Some(&["silo-1".to_owned()][..])
        );
        assert_eq!(dsr.attributes.unwrap()[0].values, ["Mobile iOS App"]);
    }

    #[test]
    fn the_builder_refuses_conflicting_silo_lists() {
        let error = SubmitDsr::builder(RequestAction::Access, Subject::new("id-1"), "customer")
            .data_silo_ids(["a"])
            .ignore_data_silo_ids(["b"])
            .build()
            .unwrap_err();
        assert!(error.names_field("dataSiloIds"));
    }
}
