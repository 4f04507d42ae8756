//! The kinds of identifier a person can be known by.

use crate::wire_enum::wire_enum;

wire_enum! {
    /// An identifier type: the keys of `subject.attestedExtraIdentifiers`.
    pub enum IdentifierType {
        /// `email`.
        Email = "email",
        /// `phone`.
        Phone = "phone",
        /// `coreIdentifier`.
        CoreIdentifier = "coreIdentifier",
        /// `custom`.
        Custom = "custom",
        /// `gaid`.
        Gaid = "gaid",
        /// `idfa`.
        Idfa = "idfa",
        /// `idfv`.
        Idfv = "idfv",
        /// `browserId`.
        BrowserId = "browserId",
        /// `microsoftAdvertisingId`.
        MicrosoftAdvertisingId = "microsoftAdvertisingId",
        /// `amazonFireAdvertisingId`.
        AmazonFireAdvertisingId = "amazonFireAdvertisingId",
        /// `rida`.
        Rida = "rida",
        /// `advertisingId`.
        AdvertisingId = "advertisingId",
        /// `filestackHandle`.
        FilestackHandle = "filestackHandle",
        /// `stripeId`.
        StripeId = "stripeId",
        /// `braintreeCustomerId`.
        BraintreeCustomerId = "braintreeCustomerId",
        /// `chargebeeId`.
        ChargebeeId = "chargebeeId",
        /// `thriveTrmContactId`.
        ThriveTrmContactId = "thriveTrmContactId",
        /// `talkableUUID`.
        TalkableUuid = "talkableUUID",
        /// `recurlyId`.
        RecurlyId = "recurlyId",
        /// `customerIoId`.
        CustomerIoId = "customerIoId",
        /// `sprigVisitorId`.
        SprigVisitorId = "sprigVisitorId",
        /// `linkedInURL`.
        LinkedInUrl = "linkedInURL",
        /// `personaReferenceId`.
        PersonaReferenceId = "personaReferenceId",
        /// `streamUserId`.
        StreamUserId = "streamUserId",
        /// `plaidProcessorToken`.
        PlaidProcessorToken = "plaidProcessorToken",
        /// `onfidoApplicantId`.
        OnfidoApplicantId = "onfidoApplicantId",
        /// `veroUserId`.
        VeroUserId = "veroUserId",
        /// `adobeAdvertisingCloudId`.
        AdobeAdvertisingCloudId = "adobeAdvertisingCloudId",
        /// `adobeAudienceManagerId`.
        AdobeAudienceManagerId = "adobeAudienceManagerId",
        /// `adobeExperienceCloudId`.
        AdobeExperienceCloudId = "adobeExperienceCloudId",
        /// `adobeTargetId`.
        AdobeTargetId = "adobeTargetId",
        /// `adobeCampaignRecipientId`.
        AdobeCampaignRecipientId = "adobeCampaignRecipientId",
        /// `transcend`.
        Transcend = "transcend",
    }
}
