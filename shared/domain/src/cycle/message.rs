//! The texts patients receive, in their preferred language. The number appears only here, on its way out.

use crate::pii::ProcessingNumber;
use crate::report::Language;
use crate::time::{Instant, japan_clock_text};

/// Subject and body of a message carrying a processing number valid until `valid_until` (shown in Japan time).
pub fn number_message(language: Language, number: &ProcessingNumber, valid_until: Instant) -> (String, String) {
    let n = number.expose();
    let until = japan_clock_text(valid_until);
    match language {
        Language::Ja => (
            "【厚生労働省】接触確認アプリ（COCOA）の処理番号".to_owned(),
            format!(
                "接触確認アプリ（COCOA）の処理番号は {n} です。{until}（日本時間）まで有効です。\
                 アプリの「陽性情報の登録」からこの番号を入力してください。"
            ),
        ),
        Language::En => (
            "COVID-19 Contact-Confirming App (COCOA): your processing number".to_owned(),
            format!(
                "Your processing number for the COVID-19 Contact-Confirming App (COCOA) is {n}. It is valid until \
                 {until} (Japan time). Open the app, choose \"Register positive result\" and enter this number."
            ),
        ),
        Language::Zh => (
            "接触确认应用（COCOA）处理编号".to_owned(),
            format!(
                "您的接触确认应用（COCOA）处理编号为 {n}，有效期至 {until}（日本时间）。请在应用中选择“登记阳性信息”并输入此编号。"
            ),
        ),
        Language::Ko => (
            "접촉 확인 앱(COCOA) 처리 번호".to_owned(),
            format!(
                "접촉 확인 앱(COCOA) 처리 번호는 {n}입니다. {until}(일본 시간)까지 유효합니다. 앱에서 \"양성 정보 등록\"을 선택하고 이 번호를 입력해 주십시오."
            ),
        ),
    }
}

/// The one reminder of a cycle. It cannot repeat the number (only its keyed hash is kept), so it points to the last
/// message and says until when that number is valid.
pub fn reminder_message(language: Language, number_valid_until: Instant) -> (String, String) {
    let until = japan_clock_text(number_valid_until);
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn every_language_states_number_and_japan_time() {
        let n = ProcessingNumber::parse("n", "12345678").unwrap();
        let until = Utc.with_ymd_and_hms(2021, 2, 1, 1, 30, 0).unwrap(); // 10:30 JST
        for lang in [Language::Ja, Language::En, Language::Zh, Language::Ko] {
            let (subject, body) = number_message(lang, &n, until);
            assert!(!subject.is_empty());
            assert!(body.contains("12345678"), "{lang:?}");
            assert!(body.contains("2021-02-01 10:30"), "{lang:?}");
            let (_, reminder) = reminder_message(lang, until);
            assert!(reminder.contains("2021-02-01 10:30") && !reminder.contains("12345678"), "{lang:?}");
        }
    }
}
