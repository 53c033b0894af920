//! The texts patients receive, in their preferred language. The number appears only here, on its way out.
//!
//! Every number message and the reminder carry the 8 digits (a patient may read the SMS on another phone, or through
//! a screen reader: cocoa-mhlw/cocoa#1084) and an app link that opens COCOA with the number filled in. Their SMS
//! lengths are stated in docs/processing-numbers.md and kept within [`MAX_SMS_SEGMENTS`] by a test.

use crate::pii::ProcessingNumber;
use crate::report::Language;
use crate::time::{Instant, japan_clock_text};

/// The app link's prefix when `APP_LINK_BASE` is not set: COCOA's universal-link form, the number appended.
pub const DEFAULT_APP_LINK_BASE: &str = "https://www.mhlw.go.jp/cocoa/a/?pn=";
/// The longest link prefix accepted from configuration: the SMS length budget is computed with it.
pub const MAX_APP_LINK_BASE_CHARS: usize = 64;
/// Segments an SMS may take in every language (English GSM-7, Japanese, Chinese and Korean UCS-2).
pub const MAX_SMS_SEGMENTS: usize = 3;

/// The prefix of the link that opens the app with a number filled in; the 8 digits are appended to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppLink(String);

/// Why a configured link prefix was refused (the value is not repeated: it is configuration, but keep errors short).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AppLinkError {
    #[error("must start with https://")]
    NotHttps,
    #[error("must be at most 64 characters")]
    TooLong,
    #[error("must be printable ASCII without spaces")]
    NotPlainAscii,
}

impl AppLink {
    pub fn parse(base: &str) -> Result<Self, AppLinkError> {
        if !base.starts_with("https://") {
            return Err(AppLinkError::NotHttps);
        }
        if !base.chars().all(|c| c.is_ascii_graphic()) {
            return Err(AppLinkError::NotPlainAscii);
        }
        if base.chars().count() > MAX_APP_LINK_BASE_CHARS {
            return Err(AppLinkError::TooLong);
        }
        Ok(Self(base.to_owned()))
    }

    /// The link for `number`: the prefix and the digits.
    pub fn for_number(&self, number: &ProcessingNumber) -> String {
        format!("{}{}", self.0, number.expose())
    }
}

impl Default for AppLink {
    fn default() -> Self {
        Self(DEFAULT_APP_LINK_BASE.to_owned())
    }
}

/// Subject and body of a message carrying a processing number valid until `valid_until` (shown in Japan time).
/// The link stands on a line of its own so that messaging apps recognise it.
pub fn number_message(
    language: Language,
    number: &ProcessingNumber,
    link: &AppLink,
    valid_until: Instant,
) -> (String, String) {
    let n = number.expose();
    let url = link.for_number(number);
    let until = japan_clock_text(valid_until);
    match language {
        Language::Ja => (
            "【厚生労働省】接触確認アプリ（COCOA）の処理番号".to_owned(),
            format!(
                "接触確認アプリ（COCOA）の処理番号は {n} です。{until}（日本時間）まで有効です。\
                 次のリンクを開くと番号入力済みでアプリが起動します。\n{url}\n\
                 開けない場合はアプリの「陽性情報の登録」でこの番号を入力してください。"
            ),
        ),
        Language::En => (
            "COVID-19 Contact-Confirming App (COCOA): your processing number".to_owned(),
            format!(
                "Your processing number for the COVID-19 Contact-Confirming App (COCOA) is {n}. It is valid until \
                 {until} (Japan time). Open this link to start the app with the number filled in:\n{url}\n\
                 Or open the app, choose \"Register positive result\" and enter this number."
            ),
        ),
        Language::Zh => (
            "接触确认应用（COCOA）处理编号".to_owned(),
            format!(
                "您的接触确认应用（COCOA）处理编号为 {n}，有效期至 {until}（日本时间）。打开以下链接即可启动应用并自动填入编号：\
                 \n{url}\n也可在应用中选择“登记阳性信息”并输入此编号。"
            ),
        ),
        Language::Ko => (
            "접촉 확인 앱(COCOA) 처리 번호".to_owned(),
            format!(
                "접촉 확인 앱(COCOA) 처리 번호는 {n}입니다. {until}(일본 시간)까지 유효합니다. 아래 링크를 열면 번호가 \
                 입력된 채 앱이 열립니다.\n{url}\n또는 앱의 \"양성 정보 등록\"에서 이 번호를 입력하세요."
            ),
        ),
    }
}

/// The one reminder of a cycle, repeating the live number and its link. `number` is `None` only when its sealed
/// copy cannot be opened (a cycle issued before numbers were kept, or the key service failing): the reminder then
/// points to the last message instead, as it did before.
pub fn reminder_message(
    language: Language,
    number: Option<&ProcessingNumber>,
    link: &AppLink,
    number_valid_until: Instant,
) -> (String, String) {
    let until = japan_clock_text(number_valid_until);
    let Some(number) = number else { return reminder_without_number(language, &until) };
    let n = number.expose();
    let url = link.for_number(number);
    match language {
        Language::Ja => (
            "【厚生労働省】COCOA への陽性登録のお願い".to_owned(),
            format!(
                "接触確認アプリ（COCOA）への陽性登録にご協力ください。処理番号は {n} で、{until}（日本時間）まで有効です。\
                 \n{url}\n登録は匿名で、接触の可能性がある方への通知に使われます。"
            ),
        ),
        Language::En => (
            "Reminder: please register your positive result in COCOA".to_owned(),
            format!(
                "Please register your positive result in the COVID-19 Contact-Confirming App (COCOA). Your processing \
                 number is {n}, valid until {until} (Japan time). Open this link to start the app with it filled \
                 in:\n{url}\nRegistration is anonymous and warns people you may have been in contact with."
            ),
        ),
        Language::Zh => (
            "提醒：请在 COCOA 中登记阳性信息".to_owned(),
            format!(
                "请在接触确认应用（COCOA）中登记阳性信息。您的处理编号为 {n}，有效期至 {until}（日本时间）。\n{url}\n登记是匿名的。"
            ),
        ),
        Language::Ko => (
            "알림: COCOA에 양성 정보를 등록해 주십시오".to_owned(),
            format!(
                "접촉 확인 앱(COCOA)에 양성 정보를 등록해 주십시오. 처리 번호는 {n}이며 {until}(일본 시간)까지 \
                 유효합니다.\n{url}\n등록은 익명입니다."
            ),
        ),
    }
}

fn reminder_without_number(language: Language, until: &str) -> (String, String) {
    match language {
        Language::Ja => (
            "【厚生労働省】COCOA への陽性登録のお願い".to_owned(),
            format!(
                "お送りした処理番号は {until}（日本時間）まで有効です。接触確認アプリ（COCOA）への陽性登録にご協力ください。\
                 登録は匿名で、接触の可能性がある方への通知に使われます。"
            ),
        ),
        Language::En => (
            "Reminder: please register your positive result in COCOA".to_owned(),
            format!(
                "The processing number we sent you is valid until {until} (Japan time). Please register your positive \
                 result in the COVID-19 Contact-Confirming App (COCOA). Registration is anonymous and warns people \
                 you may have been in contact with."
            ),
        ),
        Language::Zh => (
            "提醒：请在 COCOA 中登记阳性信息".to_owned(),
            format!(
                "我们发送给您的处理编号有效期至 {until}（日本时间）。请在接触确认应用（COCOA）中登记阳性信息。登记是匿名的。"
            ),
        ),
        Language::Ko => (
            "알림: COCOA에 양성 정보를 등록해 주십시오".to_owned(),
            format!(
                "보내 드린 처리 번호는 {until}(일본 시간)까지 유효합니다. 접촉 확인 앱(COCOA)에 양성 정보를 등록해 주십시오. 등록은 익명입니다."
            ),
        ),
    }
}

/// How an SMS body is encoded on the air: GSM-7 when every character is in the GSM 03.38 alphabet, else UCS-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

/// An SMS body's length as the network counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsLength {
    pub encoding: SmsEncoding,
    /// Characters as written (Unicode scalar values).
    pub characters: usize,
    /// Units the network counts: septets for GSM-7 (an extension character takes two), UTF-16 units for UCS-2.
    pub units: usize,
    /// Segments: one up to 160 septets / 70 units; beyond that, 153 / 67 per segment of a concatenated SMS.
    pub segments: usize,
}

/// GSM 03.38 basic alphabet (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ\
                          ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// GSM 03.38 extension table (an escape septet plus one).
const GSM7_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// The length of `body` sent as one SMS.
pub fn sms_length(body: &str) -> SmsLength {
    let characters = body.chars().count();
    let gsm_units: Option<usize> = body
        .chars()
        .map(|c| {
            if GSM7_BASIC.contains(c) {
                Some(1)
            } else if GSM7_EXTENSION.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (encoding, units, single, per_part) = match gsm_units {
        Some(units) => (SmsEncoding::Gsm7, units, 160, 153),
        None => (SmsEncoding::Ucs2, body.encode_utf16().count(), 70, 67),
    };
    let segments = if units <= single { 1 } else { units.div_ceil(per_part) };
    SmsLength { encoding, characters, units, segments }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    const LANGUAGES: [Language; 4] = [Language::Ja, Language::En, Language::Zh, Language::Ko];

    fn longest_link() -> AppLink {
        // A realistic prefix padded to the configured maximum: the budget must hold for any accepted prefix.
        let (head, tail) = ("https://www.mhlw.go.jp/cocoa/", "/?pn=");
        let path = "a".repeat(MAX_APP_LINK_BASE_CHARS - head.len() - tail.len());
        AppLink::parse(&format!("{head}{path}{tail}")).unwrap()
    }

    #[test]
    fn every_message_states_number_link_and_japan_time() {
        let n = ProcessingNumber::parse("n", "12345678").unwrap();
        let link = AppLink::default();
        let until = Utc.with_ymd_and_hms(2021, 2, 1, 1, 30, 0).unwrap(); // 10:30 JST
        for lang in LANGUAGES {
            let (subject, body) = number_message(lang, &n, &link, until);
            assert!(!subject.is_empty());
            assert!(body.contains("12345678"), "{lang:?}");
            assert!(body.contains("\nhttps://www.mhlw.go.jp/cocoa/a/?pn=12345678\n"), "{lang:?}");
            assert!(body.contains("2021-02-01 10:30"), "{lang:?}");
            let (_, reminder) = reminder_message(lang, Some(&n), &link, until);
            assert!(reminder.contains("2021-02-01 10:30") && reminder.contains("12345678"), "{lang:?}");
            assert!(reminder.contains("\nhttps://www.mhlw.go.jp/cocoa/a/?pn=12345678\n"), "{lang:?}");
            let (_, fallback) = reminder_message(lang, None, &link, until);
            assert!(fallback.contains("2021-02-01 10:30") && !fallback.contains("12345678"), "{lang:?}");
        }
    }

    #[test]
    fn every_sms_fits_three_segments_with_the_longest_link() {
        let n = ProcessingNumber::parse("n", "12345678").unwrap();
        let link = longest_link();
        assert_eq!(link.for_number(&n).chars().count(), MAX_APP_LINK_BASE_CHARS + 8);
        // Two-digit month, day and hour: the longest date text.
        let until = Utc.with_ymd_and_hms(2021, 12, 31, 14, 59, 0).unwrap();
        for lang in LANGUAGES {
            let (_, issued) = number_message(lang, &n, &link, until);
            let (_, reminder) = reminder_message(lang, Some(&n), &link, until);
            for body in [issued, reminder] {
                let length = sms_length(&body);
                let expected = if lang == Language::En { SmsEncoding::Gsm7 } else { SmsEncoding::Ucs2 };
                assert_eq!(length.encoding, expected, "{lang:?}");
                // Printed for docs/processing-numbers.md (`cargo test -p domain sms -- --nocapture`).
                println!("{lang:?}: {length:?}");
                assert!(length.segments <= MAX_SMS_SEGMENTS, "{lang:?}: {length:?}");
            }
        }
    }

    #[test]
    fn sms_length_counts_as_the_network_does() {
        assert_eq!(sms_length(&"a".repeat(160)).segments, 1);
        assert_eq!(sms_length(&"a".repeat(161)).segments, 2);
        assert_eq!(sms_length(&"a".repeat(306)).segments, 2);
        assert_eq!(sms_length(&"a".repeat(307)).segments, 3);
        let braces = sms_length("{}");
        assert_eq!((braces.encoding, braces.characters, braces.units), (SmsEncoding::Gsm7, 2, 4));
        assert_eq!(sms_length(&"番".repeat(70)).segments, 1);
        assert_eq!(sms_length(&"番".repeat(71)).segments, 2);
        assert_eq!(sms_length(&"番".repeat(134)).segments, 2);
        assert_eq!(sms_length(&"番".repeat(135)).segments, 3);
        assert_eq!(sms_length(&format!("{}番", "a".repeat(69))).encoding, SmsEncoding::Ucs2);
    }

    #[test]
    fn link_prefix_is_checked() {
        assert_eq!(AppLink::parse("http://x/"), Err(AppLinkError::NotHttps));
        assert_eq!(AppLink::parse("https://x/ y"), Err(AppLinkError::NotPlainAscii));
        assert_eq!(AppLink::parse(&format!("https://{}", "x".repeat(60))), Err(AppLinkError::TooLong));
        assert!(AppLink::parse(DEFAULT_APP_LINK_BASE).is_ok());
    }
}
