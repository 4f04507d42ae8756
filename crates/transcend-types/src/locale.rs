//! The language of a DSR (`locale`).

use crate::wire_enum::wire_enum;

wire_enum! {
    /// A language preference (`locale`): the list of the submit reference page.
    ///
    /// The product knows more locales than the page lists; a response may carry one of
    /// those, and it is kept as it was sent.
    pub enum Locale {
        /// `en`.
        En = "en",
        /// `ar`.
        Ar = "ar",
        /// `fr`.
        Fr = "fr",
        /// `es`.
        Es = "es",
        /// `de`.
        De = "de",
        /// `it`.
        It = "it",
        /// `ja`.
        Ja = "ja",
        /// `ru`.
        Ru = "ru",
        /// `ar-AE`.
        ArAe = "ar-AE",
        /// `fr-FR`.
        FrFr = "fr-FR",
        /// `de-DE`.
        DeDe = "de-DE",
        /// `de-AT`.
        DeAt = "de-AT",
        /// `de-CH`.
        DeCh = "de-CH",
        /// `it-IT`.
        ItIt = "it-IT",
        /// `it-CH`.
        ItCh = "it-CH",
        /// `af-ZA`.
        AfZa = "af-ZA",
        /// `bg-BG`.
        BgBg = "bg-BG",
        /// `zh-CN`.
        ZhCn = "zh-CN",
        /// `hr-HR`.
        HrHr = "hr-HR",
        /// `cs-CZ`.
        CsCz = "cs-CZ",
        /// `da-DK`.
        DaDk = "da-DK",
        /// `en-GB`.
        EnGb = "en-GB",
        /// `en-CA`.
        EnCa = "en-CA",
        /// `en-AE`.
        EnAe = "en-AE",
        /// `fi-FI`.
        FiFi = "fi-FI",
        /// `el-GR`.
        ElGr = "el-GR",
        /// `hi-IN`.
        HiIn = "hi-IN",
        /// `hu-HU`.
        HuHu = "hu-HU",
        /// `id-ID`.
        IdId = "id-ID",
        /// `ja-JP`.
        JaJp = "ja-JP",
        /// `ko-KR`.
        KoKr = "ko-KR",
        /// `lt-LT`.
        LtLt = "lt-LT",
        /// `ms-MY`.
        MsMy = "ms-MY",
        /// `mr-IN`.
        MrIn = "mr-IN",
        /// `nb-NO`.
        NbNo = "nb-NO",
        /// `pl-PL`.
        PlPl = "pl-PL",
        /// `pt-BR`.
        PtBr = "pt-BR",
        /// `pt-PT`.
        PtPt = "pt-PT",
        /// `ro-RO`.
        RoRo = "ro-RO",
        /// `ru-RU`.
        RuRu = "ru-RU",
        /// `sr-Latn-RS`.
        SrLatnRs = "sr-Latn-RS",
        /// `sv-SE`.
        SvSe = "sv-SE",
        /// `ta-IN`.
        TaIn = "ta-IN",
        /// `th-TH`.
        ThTh = "th-TH",
        /// `tr-TR`.
        TrTr = "tr-TR",
        /// `uk-UA`.
        UkUa = "uk-UA",
        /// `vi-VN`.
        ViVn = "vi-VN",
        /// `zu-ZA`.
        ZuZa = "zu-ZA",
        /// `en-US`.
        EnUs = "en-US",
        /// `en-AU`.
        EnAu = "en-AU",
        /// `fr-BE`.
        FrBe = "fr-BE",
        /// `fr-CA`.
        FrCa = "fr-CA",
        /// `fr-CH`.
        FrCh = "fr-CH",
        /// `en-IE`.
        EnIe = "en-IE",
        /// `nl-NL`.
        NlNl = "nl-NL",
        /// `nl-BE`.
        NlBe = "nl-BE",
        /// `es-ES`.
        EsEs = "es-ES",
        /// `es-419`.
        Es419 = "es-419",
        /// `zh-HK`.
        ZhHk = "zh-HK",
        /// `he-IL`.
        HeIl = "he-IL",
        /// `en-NZ`.
        EnNz = "en-NZ",
        /// `et-EE`.
        EtEe = "et-EE",
        /// `is-IS`.
        IsIs = "is-IS",
        /// `lv-LV`.
        LvLv = "lv-LV",
        /// `mt-MT`.
        MtMt = "mt-MT",
        /// `sk-SK`.
        SkSk = "sk-SK",
        /// `sl-SL`.
        SlSl = "sl-SL",
    }
}

impl Default for Locale {
    /// English (`en`), the API's default.
    fn default() -> Self {
        Self::En
    }
}
