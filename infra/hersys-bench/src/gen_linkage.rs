//! `hersys-bench gen linkage --entries N --reports M --seed S --out-dir D`: entry records and outbreak reports with
//! known truth, for the linkage benchmark. Writes `ENTRIES.csv`, `REPORTS.csv` (the `hersys link` input headers) and
//! `TRUTH.csv` (`report_id,entry_id,passport_typing`). Deterministic for a seed (one [`Sequence`] of draws, in
//! order). Entry dates spread over the two years 2021-2022 (`--span-days` reaches further back: an hourly run's cost
//! follows the daily rate, entries / span, not the size). Every value is made up; names come from small pools of common
//! names, so different people share names, as in life.
//!
//! The population (weights after arrivals to Japan by nationality, 2019):
//! CHN 28, KOR 18, TWN 14, HKG 7, USA 7, THA 6, VNM 6, PHL 5, IDN 4, AUS 3, GBR 2, each with its passport
//! number format and name pattern (Chinese pinyin, Taiwanese Wade-Giles with hyphenated given names, Hong Kong
//! Cantonese, Korean with joined or hyphenated given names, Vietnamese with middle names, Thai long family names,
//! Filipino and American middle names, Indonesian). 15% of people travel in parties of 2 to 5 sharing a family
//! name, with consecutive passport numbers. Entries per person: 1 (75%), 2 (18%), 3 to 5 (7%).
//!
//! Reports: [`STRANGERS`] of them are people with no entry record (a third of those share a name with an
//! entrant). The rest are of an entrant, diagnosed 0 to 120 days after an entry; the true entry is the person's
//! latest entry on or before the diagnosis date. Corruptions of the report, at these rates:
//! - passport number: missing 20%; of those present, mistyped 15% (a look-alike O/0, I/1, S/5, B/8, Z/2, G/6
//!   30%, another digit 25%, adjacent characters transposed 20%, a character lost 15%, one added 10%); of the
//!   rest, full-width 5%, lower case 5%, a space inserted 5%;
//! - name: in katakana only 25%; otherwise Latin with family and given names swapped 30%, a middle name dropped
//!   40% (when there is one), a spelling slip 8%, mixed case 20%, full-width 3%, Vietnamese diacritics 30%, and
//!   a katakana reading beside it 50%;
//! - date of birth: missing 3%, day and month swapped 2% (where the day is ≤ 12 and differs from the month;
//!   otherwise a digit is changed instead), one digit wrong 4%;
//! - sex: missing 2%, wrong 1%; nationality: missing 10%, wrong 2%.
//!
//! `--hard` (the default files stay byte for byte as they were) adds what fooled the engine on someone else's data:
//! - look-alikes: [`LOOKALIKES`] of the reports are of people with no entry record who carry one of a
//!   nationality's most common names ([`COMMON_NAMES`]: WANG WEI, NGUYEN VAN ANH, CHANG WEI-LUN, KIM MIN-JUN...)
//!   and the sex of an entrant of that name, with a date of birth one day (50%) or one digit (30%) off the
//!   entrant's; or (20%) the entrant's family name and exact date of birth with other given names. They are
//!   diagnosed 0 to 28 days after that entrant's entry; being residents, not visitors, 70% give no passport number
//!   (the reporting rule asks it of recent entrants only). (The same full name and the same date of birth would be
//!   the same person for any reader without a passport number: not made.)
//! - 4% of people (leaders and travellers alone) carry one of those common names, so that they are common;
//! - travel parties 25% (not 15%), a tenth of them with twins (the same date of birth, other given names);
//!   repeat entrants 35% (not 25%);
//! - 1% of entries recorded twice on the same day (the same person, another entry id); the truth is the first;
//! - the nationality missing from 10% of the reports that carry a passport number but from 2% of those without
//!   one: HER-SYS asks every patient's nationality, and a health centre that finds no passport number has still
//!   noted that the patient is foreign (that is why it asked). The default's 10% regardless makes a tenth of the
//!   reports without a passport number unlinkable by the product's candidate rule, which real data would not.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{Datelike, Days, NaiveDate};
use rand::Rng;

use synthetic::rng::Sequence;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    entries: usize,
    #[arg(long, default_value_t = 50_000)]
    reports: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long)]
    out_dir: PathBuf,
    /// Adds adversarial cases (see the module documentation); without it the files are as they always were.
    #[arg(long)]
    hard: bool,
    /// Days the entry dates spread over, up to 2022-12-31: entries per day = entries / span. To compare stores of
    /// different sizes at the same daily rate (a longer history, not a denser one), scale the span with them.
    #[arg(long, default_value_t = SPAN_DAYS)]
    span_days: u64,
}

/// Default span of the entry dates: two years.
pub const SPAN_DAYS: u64 = 730;

/// Share of reports of people with no entry record.
pub const STRANGERS: f64 = 0.15;
/// `--hard`: share of reports of people with no entry record who look like an entrant with a common name.
pub const LOOKALIKES: f64 = 0.04;
/// `--hard`: share of people (not in a party) who carry one of their nationality's [`COMMON_NAMES`].
const COMMON_NAME_SHARE: f64 = 0.04;

/// The most common full names per nationality (family name, given-name tokens), for `--hard`.
const COMMON_NAMES: &[(&str, Nk, &[Nk])] = &[
    ("CHN", ("WANG", "ワン"), &[("WEI", "ウェイ")]),
    ("CHN", ("ZHANG", "チャン"), &[("WEI", "ウェイ")]),
    ("CHN", ("LI", "リー"), &[("NA", "ナー")]),
    ("CHN", ("LIU", "リウ"), &[("YANG", "ヤン")]),
    ("KOR", ("KIM", "キム"), &[("MIN", "ミン"), ("JUN", "ジュン")]),
    ("KOR", ("LEE", "イ"), &[("JI", "ジ"), ("HOON", "フン")]),
    ("KOR", ("PARK", "パク"), &[("SEO", "ソ"), ("YEON", "ヨン")]),
    ("TWN", ("CHANG", "チャン"), &[("WEI", "ウェイ"), ("LUN", "ルン")]),
    ("TWN", ("CHEN", "チェン"), &[("CHIA", "チア"), ("HAO", "ハオ")]),
    ("TWN", ("LIN", "リン"), &[("MEI", "メイ"), ("LING", "リン")]),
    ("HKG", ("CHAN", "チャン"), &[("TAI", "タイ"), ("MAN", "マン")]),
    ("HKG", ("WONG", "ウォン"), &[("KA", "カ"), ("WAI", "ワイ")]),
    ("USA", ("SMITH", "スミス"), &[("JOHN", "ジョン")]),
    ("USA", ("JOHNSON", "ジョンソン"), &[("MICHAEL", "マイケル")]),
    ("THA", ("SAETANG", "セータン"), &[("SOMCHAI", "ソムチャイ")]),
    ("VNM", ("NGUYEN", "グエン"), &[("VAN", "ヴァン"), ("ANH", "アイン")]),
    ("VNM", ("PHAM", "ファム"), &[("QUANG", "クアン")]),
    ("VNM", ("NGUYEN", "グエン"), &[("THI", "ティ"), ("HOA", "ホア")]),
    ("PHL", ("SANTOS", "サントス"), &[("MARIA", "マリア")]),
    ("PHL", ("REYES", "レイエス"), &[("JOSE", "ホセ")]),
    ("IDN", ("SETIAWAN", "セティアワン"), &[("BUDI", "ブディ")]),
    ("AUS", ("SMITH", "スミス"), &[("JAMES", "ジェームズ")]),
    ("GBR", ("SMITH", "スミス"), &[("JAMES", "ジェームズ")]),
];

/// The rates `--hard` changes (see the module documentation).
struct Rates {
    party: f64,
    /// Out of 100: one visit below the first, two below the second, else 3 to 5.
    visits: (u32, u32),
    twins: f64,
    common_names: f64,
    same_day_twice: f64,
    lookalikes: f64,
    /// Out of 100, the nationality missing: (with a passport number, without).
    nationality_missing: (u32, u32),
}

impl Rates {
    fn of(hard: bool) -> Rates {
        if hard {
            Rates {
                party: 0.25,
                visits: (65, 90),
                twins: 0.1,
                common_names: COMMON_NAME_SHARE,
                same_day_twice: 0.01,
                lookalikes: LOOKALIKES,
                nationality_missing: (10, 2),
            }
        } else {
            Rates {
                party: 0.15,
                visits: (75, 93),
                twins: 0.0,
                common_names: 0.0,
                same_day_twice: 0.0,
                lookalikes: 0.0,
                nationality_missing: (10, 10),
            }
        }
    }
}

/// Whether to draw at all: a rate of 0 draws nothing, so that the default files keep their sequence of draws.
fn chance(rng: &mut Sequence, rate: f64) -> bool {
    rate > 0.0 && rng.random_bool(rate)
}

pub const ENTRY_HEADER: &str = "entry_id,passport_number,nationality,family_name,given_names,date_of_birth,sex,\
                                entry_date,port_of_entry,entry_test_result";
pub const REPORT_HEADER: &str =
    "report_id,passport_number,nationality,name,name_kana,date_of_birth,sex,diagnosis_date,prefecture_code";
pub const TRUTH_HEADER: &str = "report_id,entry_id,passport_typing";

/// A name and its katakana reading.
type Nk = (&'static str, &'static str);

struct Pools {
    family: &'static [Nk],
    given: &'static [Nk],
    /// Chance of a second given token (middle name, or second syllable for Chinese given names).
    second: f64,
    /// Chinese-style: the second syllable joins the first into one token (XIAOMING); Korean and Taiwanese:
    /// joined with a hyphen (MIN-JUN) in the passport.
    joined: Option<&'static str>,
}

const CHN_FAMILY: &[Nk] = &[
    ("WANG", "ワン"),
    ("LI", "リー"),
    ("ZHANG", "チャン"),
    ("LIU", "リウ"),
    ("CHEN", "チェン"),
    ("YANG", "ヤン"),
    ("HUANG", "ホアン"),
    ("ZHAO", "チャオ"),
    ("WU", "ウー"),
    ("ZHOU", "チョウ"),
    ("XU", "シュー"),
    ("SUN", "スン"),
    ("MA", "マー"),
    ("ZHU", "チュー"),
    ("HU", "フー"),
    ("GUO", "グオ"),
    ("HE", "ホー"),
    ("LIN", "リン"),
    ("LUO", "ルオ"),
    ("GAO", "ガオ"),
];
const CHN_GIVEN: &[Nk] = &[
    ("WEI", "ウェイ"),
    ("FANG", "ファン"),
    ("NA", "ナー"),
    ("MIN", "ミン"),
    ("JING", "ジン"),
    ("LI", "リー"),
    ("QIANG", "チャン"),
    ("LEI", "レイ"),
    ("JUN", "ジュン"),
    ("YANG", "ヤン"),
    ("YONG", "ヨン"),
    ("JIE", "ジエ"),
    ("TAO", "タオ"),
    ("MING", "ミン"),
    ("CHAO", "チャオ"),
    ("HUA", "ホア"),
    ("XIN", "シン"),
    ("YU", "ユー"),
    ("HAO", "ハオ"),
    ("LING", "リン"),
    ("TING", "ティン"),
    ("XIAO", "シャオ"),
    ("HONG", "ホン"),
    ("PING", "ピン"),
    ("BO", "ボー"),
];
const KOR_FAMILY: &[Nk] = &[
    ("KIM", "キム"),
    ("LEE", "イ"),
    ("PARK", "パク"),
    ("CHOI", "チェ"),
    ("JUNG", "チョン"),
    ("KANG", "カン"),
    ("CHO", "チョ"),
    ("YOON", "ユン"),
    ("JANG", "チャン"),
    ("LIM", "イム"),
    ("HAN", "ハン"),
    ("OH", "オ"),
    ("SEO", "ソ"),
    ("SHIN", "シン"),
    ("KWON", "クォン"),
    ("HWANG", "ファン"),
    ("SONG", "ソン"),
    ("YOO", "ユ"),
    ("HONG", "ホン"),
];
const KOR_GIVEN: &[Nk] = &[
    ("MIN", "ミン"),
    ("JUN", "ジュン"),
    ("SEO", "ソ"),
    ("YEON", "ヨン"),
    ("JI", "ジ"),
    ("HOON", "フン"),
    ("HYUN", "ヒョン"),
    ("WOO", "ウ"),
    ("YUN", "ユン"),
    ("DO", "ド"),
    ("HA", "ハ"),
    ("EUN", "ウン"),
    ("YE", "イェ"),
    ("JIN", "ジン"),
    ("SUNG", "ソン"),
    ("JAE", "ジェ"),
    ("SO", "ソ"),
    ("YOUNG", "ヨン"),
    ("DONG", "ドン"),
    ("HO", "ホ"),
];
const TWN_FAMILY: &[Nk] = &[
    ("CHEN", "チェン"),
    ("LIN", "リン"),
    ("HUANG", "ホアン"),
    ("CHANG", "チャン"),
    ("LEE", "リー"),
    ("WANG", "ワン"),
    ("WU", "ウー"),
    ("LIU", "リウ"),
    ("TSAI", "ツァイ"),
    ("YANG", "ヤン"),
    ("HSU", "シュー"),
    ("CHENG", "チェン"),
    ("HSIEH", "シエ"),
    ("KUO", "クオ"),
    ("HUNG", "ホン"),
];
const TWN_GIVEN: &[Nk] = &[
    ("CHIA", "チア"),
    ("HAO", "ハオ"),
    ("YU", "ユー"),
    ("TING", "ティン"),
    ("SHU", "シュー"),
    ("FEN", "フェン"),
    ("CHIH", "チー"),
    ("MING", "ミン"),
    ("MEI", "メイ"),
    ("LING", "リン"),
    ("WEN", "ウェン"),
    ("HSIUNG", "シオン"),
    ("YI", "イー"),
    ("HSIN", "シン"),
    ("CHUN", "チュン"),
    ("HUNG", "ホン"),
    ("PEI", "ペイ"),
    ("SHAN", "シャン"),
];
const HKG_FAMILY: &[Nk] = &[
    ("CHAN", "チャン"),
    ("WONG", "ウォン"),
    ("LEUNG", "リョン"),
    ("CHEUNG", "チョン"),
    ("LAU", "ラウ"),
    ("LI", "リー"),
    ("NG", "ン"),
    ("HO", "ホー"),
    ("LAM", "ラム"),
    ("TANG", "タン"),
    ("YEUNG", "ヨン"),
    ("TSANG", "ツァン"),
    ("CHOW", "チャウ"),
    ("LO", "ロー"),
];
const HKG_GIVEN: &[Nk] = &[
    ("TAI", "タイ"),
    ("MAN", "マン"),
    ("KA", "カ"),
    ("WAI", "ワイ"),
    ("WING", "ウィン"),
    ("YAN", "ヤン"),
    ("CHI", "チー"),
    ("KEUNG", "キョン"),
    ("MEI", "メイ"),
    ("LING", "リン"),
    ("SIU", "シウ"),
    ("MING", "ミン"),
    ("HOI", "ホイ"),
    ("KWOK", "クォック"),
    ("PETER", "ピーター"),
    ("MARY", "メアリー"),
];
const USA_FAMILY: &[Nk] = &[
    ("SMITH", "スミス"),
    ("JOHNSON", "ジョンソン"),
    ("WILLIAMS", "ウィリアムズ"),
    ("BROWN", "ブラウン"),
    ("JONES", "ジョーンズ"),
    ("GARCIA", "ガルシア"),
    ("MILLER", "ミラー"),
    ("DAVIS", "デイビス"),
    ("RODRIGUEZ", "ロドリゲス"),
    ("MARTINEZ", "マルティネス"),
    ("WILSON", "ウィルソン"),
    ("ANDERSON", "アンダーソン"),
    ("TAYLOR", "テイラー"),
    ("THOMAS", "トーマス"),
    ("MOORE", "ムーア"),
    ("LEE", "リー"),
    ("NGUYEN", "グエン"),
    ("KIM", "キム"),
    ("PATEL", "パテル"),
];
const USA_GIVEN: &[Nk] = &[
    ("JAMES", "ジェームズ"),
    ("JOHN", "ジョン"),
    ("ROBERT", "ロバート"),
    ("MICHAEL", "マイケル"),
    ("DAVID", "デビッド"),
    ("WILLIAM", "ウィリアム"),
    ("MARY", "メアリー"),
    ("JENNIFER", "ジェニファー"),
    ("LINDA", "リンダ"),
    ("ELIZABETH", "エリザベス"),
    ("SARAH", "サラ"),
    ("EMILY", "エミリー"),
    ("JESSICA", "ジェシカ"),
    ("DANIEL", "ダニエル"),
    ("MATTHEW", "マシュー"),
    ("ASHLEY", "アシュリー"),
];
const THA_FAMILY: &[Nk] = &[
    ("SAETANG", "セータン"),
    ("WONGSAWAT", "ウォンサワット"),
    ("SRISUK", "シースック"),
    ("CHAIYAPORN", "チャイヤポーン"),
    ("BOONMA", "ブンマー"),
    ("THONGDEE", "トンディー"),
    ("RATTANAKUL", "ラッタナクン"),
    ("KAEWKLA", "ケーオクラー"),
    ("SOMBOON", "ソムブン"),
    ("PHROMMA", "プロムマー"),
];
const THA_GIVEN: &[Nk] = &[
    ("SOMCHAI", "ソムチャイ"),
    ("SOMSAK", "ソムサック"),
    ("MALEE", "マリー"),
    ("NATTAPONG", "ナッタポン"),
    ("SUDA", "スダー"),
    ("KANYA", "カンヤー"),
    ("PRASERT", "プラスート"),
    ("WANIDA", "ワニダー"),
    ("ANAN", "アナン"),
    ("SIRIPORN", "シリポーン"),
];
const VNM_FAMILY: &[Nk] = &[
    ("NGUYEN", "グエン"),
    ("TRAN", "チャン"),
    ("LE", "レー"),
    ("PHAM", "ファム"),
    ("HOANG", "ホアン"),
    ("HUYNH", "フイン"),
    ("PHAN", "ファン"),
    ("VU", "ヴー"),
    ("VO", "ボー"),
    ("DANG", "ダン"),
    ("BUI", "ブイ"),
    ("DO", "ドー"),
    ("HO", "ホー"),
    ("NGO", "ゴー"),
    ("DUONG", "ズオン"),
];
const VNM_MIDDLE: &[Nk] = &[
    ("VAN", "ヴァン"),
    ("THI", "ティ"),
    ("DUC", "ドゥック"),
    ("MINH", "ミン"),
    ("NGOC", "ゴック"),
    ("THANH", "タイン"),
    ("QUOC", "クオック"),
    ("HUU", "フウ"),
];
const VNM_GIVEN: &[Nk] = &[
    ("ANH", "アイン"),
    ("HOA", "ホア"),
    ("LINH", "リン"),
    ("HUNG", "フン"),
    ("NAM", "ナム"),
    ("TUAN", "トゥアン"),
    ("HA", "ハー"),
    ("LAN", "ラン"),
    ("DUNG", "ズン"),
    ("HUONG", "フオン"),
    ("MAI", "マイ"),
    ("TRANG", "チャン"),
    ("KHANH", "カイン"),
    ("LONG", "ロン"),
];
const PHL_FAMILY: &[Nk] = &[
    ("SANTOS", "サントス"),
    ("REYES", "レイエス"),
    ("CRUZ", "クルーズ"),
    ("BAUTISTA", "バウティスタ"),
    ("GARCIA", "ガルシア"),
    ("MENDOZA", "メンドーサ"),
    ("TORRES", "トーレス"),
    ("DELA CRUZ", "デラ クルーズ"),
    ("RAMOS", "ラモス"),
    ("AQUINO", "アキノ"),
    ("FLORES", "フローレス"),
    ("GONZALES", "ゴンザレス"),
    ("VILLANUEVA", "ビリャヌエバ"),
];
const PHL_GIVEN: &[Nk] = &[
    ("MARIA", "マリア"),
    ("JOSE", "ホセ"),
    ("MARK", "マーク"),
    ("JOHN", "ジョン"),
    ("PAUL", "ポール"),
    ("ANGELICA", "アンジェリカ"),
    ("JERICHO", "ジェリコ"),
    ("MARICEL", "マリセル"),
    ("RICARDO", "リカルド"),
    ("JOCELYN", "ジョセリン"),
    ("CHRISTIAN", "クリスチャン"),
];
const IDN_FAMILY: &[Nk] = &[
    ("SETIAWAN", "セティアワン"),
    ("WIJAYA", "ウィジャヤ"),
    ("SAPUTRA", "サプトラ"),
    ("HIDAYAT", "ヒダヤット"),
    ("KURNIAWAN", "クルニアワン"),
    ("SANTOSO", "サントソ"),
    ("PRATAMA", "プラタマ"),
    ("NUGROHO", "ヌグロホ"),
];
const IDN_GIVEN: &[Nk] = &[
    ("BUDI", "ブディ"),
    ("SITI", "シティ"),
    ("DEWI", "デウィ"),
    ("AGUS", "アグス"),
    ("RINA", "リナ"),
    ("ADI", "アディ"),
    ("PUTRI", "プトリ"),
    ("RIZKY", "リズキー"),
    ("MUHAMMAD", "ムハンマド"),
];

/// (code, weight, passport format, pools). Formats: `L` a letter, `9` a digit, other characters as written.
const NATIONS: &[(&str, u32, &str, Pools)] = &[
    ("CHN", 28, "E99999999", Pools { family: CHN_FAMILY, given: CHN_GIVEN, second: 0.6, joined: Some("") }),
    ("KOR", 18, "M99999999", Pools { family: KOR_FAMILY, given: KOR_GIVEN, second: 0.95, joined: Some("-") }),
    ("TWN", 14, "999999999", Pools { family: TWN_FAMILY, given: TWN_GIVEN, second: 0.9, joined: Some("-") }),
    ("HKG", 7, "K99999999", Pools { family: HKG_FAMILY, given: HKG_GIVEN, second: 0.8, joined: None }),
    ("USA", 7, "599999999", Pools { family: USA_FAMILY, given: USA_GIVEN, second: 0.6, joined: None }),
    ("THA", 6, "AA9999999", Pools { family: THA_FAMILY, given: THA_GIVEN, second: 0.0, joined: None }),
    ("VNM", 6, "C9999999", Pools { family: VNM_FAMILY, given: VNM_GIVEN, second: 0.0, joined: None }),
    ("PHL", 5, "P9999999A", Pools { family: PHL_FAMILY, given: PHL_GIVEN, second: 0.4, joined: None }),
    ("IDN", 4, "X9999999", Pools { family: IDN_FAMILY, given: IDN_GIVEN, second: 0.3, joined: None }),
    ("AUS", 3, "PA9999999", Pools { family: USA_FAMILY, given: USA_GIVEN, second: 0.5, joined: None }),
    ("GBR", 2, "199999999", Pools { family: USA_FAMILY, given: USA_GIVEN, second: 0.5, joined: None }),
];

const PORTS: &[(&str, u32)] = &[("NRT", 35), ("HND", 25), ("KIX", 20), ("FUK", 8), ("NGO", 5), ("CTS", 4), ("OKA", 3)];

#[derive(Clone)]
struct Person {
    nation: usize,
    passport: String,
    family: (String, String),
    /// Given-name tokens (Latin, katakana), in passport order; Vietnamese middle names come first.
    given: Vec<(String, String)>,
    /// Whether the given tokens are one hyphenated/joined name in the passport (Korean, Taiwanese, Chinese).
    given_one_word: bool,
    dob: NaiveDate,
    sex: &'static str,
    /// Carries one of [`COMMON_NAMES`] (`--hard`).
    common: bool,
}

impl Person {
    fn given_passport(&self) -> String {
        match NATIONS[self.nation].3.joined {
            Some(sep) if self.given_one_word => self.given.iter().map(|g| g.0.as_str()).collect::<Vec<_>>().join(sep),
            _ => self.given.iter().map(|g| g.0.as_str()).collect::<Vec<_>>().join(" "),
        }
    }
}

fn pick<'a, T>(rng: &mut Sequence, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn weighted<T>(rng: &mut Sequence, items: &[T], weight: impl Fn(&T) -> u32) -> usize {
    let total: u32 = items.iter().map(&weight).sum();
    let mut x = rng.random_range(0..total);
    for (i, it) in items.iter().enumerate() {
        let w = weight(it);
        if x < w {
            return i;
        }
        x -= w;
    }
    items.len() - 1
}

fn passport_of(rng: &mut Sequence, format: &str) -> String {
    format
        .chars()
        .map(|c| match c {
            '9' => char::from(b'0' + rng.random_range(0..10u8)),
            'A' => char::from(b'A' + rng.random_range(0..26u8)),
            other => other,
        })
        .collect()
}

/// The passport number `k` places after `base` (travel parties: consecutive numbers).
fn consecutive(base: &str, k: u64) -> String {
    let digits_at: Vec<usize> = base.char_indices().filter(|(_, c)| c.is_ascii_digit()).map(|(i, _)| i).collect();
    let Some((&first, &last)) = digits_at.first().zip(digits_at.last()) else { return base.to_owned() };
    // the longest run of digits ending at the last digit
    let mut start = last;
    while start > first && base.as_bytes()[start - 1].is_ascii_digit() {
        start -= 1;
    }
    let run = &base[start..=last];
    let n: u64 = run.parse().unwrap_or(0) + k;
    let width = run.len();
    let mut s = format!("{n:0width$}");
    if s.len() > width {
        s = s[s.len() - width..].to_owned();
    }
    format!("{}{}{}", &base[..start], s, &base[last + 1..])
}

fn person(
    rng: &mut Sequence,
    nation: usize,
    family: Option<(String, String)>,
    passport: Option<String>,
    travel_day: NaiveDate,
) -> Person {
    let (_, _, format, pools) = &NATIONS[nation];
    let family = family.unwrap_or_else(|| {
        let f = pick(rng, pools.family);
        (f.0.to_owned(), f.1.to_owned())
    });
    let mut given = Vec::new();
    if NATIONS[nation].0 == "VNM" {
        let m = pick(rng, VNM_MIDDLE);
        given.push((m.0.to_owned(), m.1.to_owned()));
    }
    let g = pick(rng, pools.given);
    given.push((g.0.to_owned(), g.1.to_owned()));
    if rng.random_bool(pools.second) {
        let g2 = pick(rng, pools.given);
        given.push((g2.0.to_owned(), g2.1.to_owned()));
    }
    let age_years = match rng.random_range(0..100) {
        0..10 => rng.random_range(0..18),
        10..75 => rng.random_range(18..50),
        _ => rng.random_range(50..85),
    };
    let dob = travel_day - Days::new(age_years * 365 + rng.random_range(0..365));
    Person {
        nation,
        passport: passport.unwrap_or_else(|| passport_of(rng, format)),
        family,
        given_one_word: pools.joined.is_some(),
        given,
        dob,
        sex: match rng.random_range(0..1000) {
            0..495 => "M",
            495..995 => "F",
            _ => "X",
        },
        common: false,
    }
}

/// Gives `p` one of its nationality's common names (`--hard`).
fn give_common_name(rng: &mut Sequence, p: &mut Person) {
    let code = NATIONS[p.nation].0;
    let names: Vec<&(&str, Nk, &[Nk])> = COMMON_NAMES.iter().filter(|c| c.0 == code).collect();
    if names.is_empty() {
        return;
    }
    let (_, family, given) = *pick(rng, &names);
    p.family = (family.0.to_owned(), family.1.to_owned());
    p.given = given.iter().map(|g| (g.0.to_owned(), g.1.to_owned())).collect();
    p.common = true;
}

/// The day before or after `dob`.
fn one_day_off(rng: &mut Sequence, dob: NaiveDate) -> NaiveDate {
    if rng.random_bool(0.5) { dob + Days::new(1) } else { dob - Days::new(1) }
}

/// A date of birth one digit (of the year's last two, the month or the day) off `dob`.
fn one_digit_off(rng: &mut Sequence, dob: NaiveDate) -> NaiveDate {
    let mut s: Vec<u8> = dob.to_string().into_bytes();
    for _ in 0..20 {
        let pos = [3usize, 6, 8, 9][rng.random_range(0..4)];
        let old = s[pos];
        s[pos] = b'0' + rng.random_range(0..10u8);
        if s[pos] != old
            && let Ok(d) = NaiveDate::parse_from_str(&String::from_utf8_lossy(&s), "%Y-%m-%d")
        {
            return d;
        }
        s[pos] = old;
    }
    dob + Days::new(1)
}

struct Entry {
    person: usize,
    date: NaiveDate,
}

/// How the report's passport number was typed (TRUTH.csv `passport_typing`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Typing {
    Correct,
    Missing,
    /// Full-width, lower case, spaces or hyphen: the same number, differently written.
    Formatting,
    /// A look-alike character (O for 0...).
    Confusable,
    /// Another digit, a transposition, a character lost or added.
    Typo,
}

impl Typing {
    fn as_str(self) -> &'static str {
        match self {
            Typing::Correct => "correct",
            Typing::Missing => "missing",
            Typing::Formatting => "formatting",
            Typing::Confusable => "confusable",
            Typing::Typo => "typo",
        }
    }
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c)
            } else if c == ' ' {
                '\u{3000}'
            } else {
                c
            }
        })
        .collect()
}

fn corrupt_passport(rng: &mut Sequence, p: &str) -> (String, Typing) {
    if rng.random_bool(0.20) {
        return (String::new(), Typing::Missing);
    }
    let mut b: Vec<u8> = p.as_bytes().to_vec();
    if rng.random_bool(0.15) {
        let pos = rng.random_range(0..b.len());
        let kind = rng.random_range(0..100);
        let look_alikes: &[(u8, u8)] = &[
            (b'0', b'O'),
            (b'1', b'I'),
            (b'5', b'S'),
            (b'8', b'B'),
            (b'2', b'Z'),
            (b'6', b'G'),
            (b'O', b'0'),
            (b'I', b'1'),
        ];
        if kind < 30 {
            let spots: Vec<(usize, u8)> = b
                .iter()
                .enumerate()
                .filter_map(|(i, c)| look_alikes.iter().find(|(from, _)| from == c).map(|(_, to)| (i, *to)))
                .collect();
            if let Some(&(i, to)) = spots.get(rng.random_range(0..spots.len().max(1))) {
                b[i] = to;
                return (String::from_utf8_lossy(&b).into_owned(), Typing::Confusable);
            }
        }
        match kind {
            0..55 => {
                let old = b[pos];
                while b[pos] == old {
                    b[pos] = if old.is_ascii_digit() {
                        b'0' + rng.random_range(0..10u8)
                    } else {
                        b'A' + rng.random_range(0..26u8)
                    };
                }
            }
            55..75 => {
                let i = pos.min(b.len() - 2);
                if b[i] == b[i + 1] {
                    b[i + 1] = if b[i] == b'9' { b'0' } else { b[i] + 1 };
                } else {
                    b.swap(i, i + 1);
                }
            }
            75..90 => {
                b.remove(pos);
            }
            _ => b.insert(pos, b'0' + rng.random_range(0..10u8)),
        }
        return (String::from_utf8_lossy(&b).into_owned(), Typing::Typo);
    }
    let s = String::from_utf8_lossy(&b).into_owned();
    match rng.random_range(0..100) {
        0..5 => (full_width(&s), Typing::Formatting),
        5..10 => (s.to_lowercase(), Typing::Formatting),
        10..15 => (format!("{} {}", &s[..3], &s[3..]), Typing::Formatting),
        _ => (s, Typing::Correct),
    }
}

fn slip(rng: &mut Sequence, token: &str) -> String {
    let mut b = token.as_bytes().to_vec();
    if b.len() < 4 {
        return token.to_owned();
    }
    let pos = rng.random_range(1..b.len());
    match rng.random_range(0..3) {
        0 => b[pos] = b"AEIOUY"[rng.random_range(0..6)],
        1 => {
            b.remove(pos);
        }
        _ => b.insert(pos, b[pos - 1]),
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn vietnamese_marks(token: &str) -> String {
    match token {
        "NGUYEN" => "Nguyễn",
        "TRAN" => "Trần",
        "LE" => "Lê",
        "PHAM" => "Phạm",
        "HOANG" => "Hoàng",
        "DANG" => "Đặng",
        "VAN" => "Văn",
        "THI" => "Thị",
        "DUC" => "Đức",
        "NGOC" => "Ngọc",
        "ANH" => "Anh",
        "HUONG" => "Hương",
        other => other,
    }
    .to_owned()
}

fn mixed_case(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_string() + &c.as_str().to_lowercase()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The report's (name, name_kana) for a person, corrupted at the stated rates.
fn report_name(rng: &mut Sequence, p: &Person) -> (String, String) {
    let mut given: Vec<&(String, String)> = p.given.iter().collect();
    if given.len() > 1 && !p.given_one_word && rng.random_bool(0.4) {
        given.remove(if NATIONS[p.nation].0 == "VNM" { 0 } else { given.len() - 1 });
    }
    let kana_given: Vec<&str> = given.iter().map(|g| g.1.as_str()).collect();
    let kana_given = if p.given_one_word { kana_given.join("") } else { kana_given.join(" ") };
    let swap = rng.random_bool(0.3);
    let kana = if swap { format!("{} {}", kana_given, p.family.1) } else { format!("{} {}", p.family.1, kana_given) };
    if rng.random_bool(0.25) {
        return (kana, String::new());
    }
    let mut latin_given: Vec<String> = given.iter().map(|g| g.0.clone()).collect();
    let mut family = p.family.0.clone();
    if rng.random_bool(0.08) {
        if rng.random_bool(0.5) || latin_given.is_empty() {
            family = slip(rng, &family);
        } else {
            let i = rng.random_range(0..latin_given.len());
            latin_given[i] = slip(rng, &latin_given[i]);
        }
    }
    let given_text = match NATIONS[p.nation].3.joined {
        Some(sep) if p.given_one_word => {
            let sep = if rng.random_bool(0.5) { sep } else { [" ", "", "-"][rng.random_range(0..3)] };
            latin_given.join(sep)
        }
        _ => latin_given.join(" "),
    };
    let mut name = if swap { format!("{given_text} {family}") } else { format!("{family} {given_text}") };
    if NATIONS[p.nation].0 == "VNM" && rng.random_bool(0.3) {
        name = name.split(' ').map(vietnamese_marks).collect::<Vec<_>>().join(" ");
    }
    if rng.random_bool(0.2) {
        name = mixed_case(&name);
    } else if rng.random_bool(0.03) {
        name = full_width(&name);
    }
    let kana = if rng.random_bool(0.5) { kana } else { String::new() };
    (name, kana)
}

fn report_dob(rng: &mut Sequence, dob: NaiveDate) -> String {
    let x = rng.random_range(0..1000);
    if x < 30 {
        return String::new();
    }
    if x < 50
        && dob.day() <= 12
        && dob.day() != dob.month()
        && let Some(d) = NaiveDate::from_ymd_opt(dob.year(), dob.day(), dob.month())
    {
        return d.to_string();
    }
    if x < 90 {
        let mut s: Vec<u8> = dob.to_string().into_bytes();
        for _ in 0..20 {
            let pos = [2usize, 3, 6, 8, 9][rng.random_range(0..5)];
            let old = s[pos];
            s[pos] = b'0' + rng.random_range(0..10u8);
            let text = String::from_utf8_lossy(&s).into_owned();
            if s[pos] != old && NaiveDate::parse_from_str(&text, "%Y-%m-%d").is_ok() {
                return text;
            }
            s[pos] = old;
        }
    }
    dob.to_string()
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let Args { entries: n_entries, reports: n_reports, seed, out_dir, hard, span_days } = args;
    anyhow::ensure!(span_days > 0, "--span-days must be at least 1");
    let rates = Rates::of(hard);
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let mut rng = Sequence::new(seed);
    // The last day stays 2022-12-31 whatever the span (a longer span reaches back): an entry date after today is
    // refused by the product.
    let first_day = NaiveDate::from_ymd_opt(2023, 1, 1).context("date")? - Days::new(span_days);

    // People and their entries.
    let mut people: Vec<Person> = Vec::new();
    let mut entries: Vec<Entry> = Vec::with_capacity(n_entries);
    while entries.len() < n_entries {
        let nation = weighted(&mut rng, NATIONS, |n| n.1);
        let day = first_day + Days::new(rng.random_range(0..span_days));
        let party = if rng.random_bool(rates.party) { rng.random_range(2..=5) } else { 1 };
        let mut leader = person(&mut rng, nation, None, None, day);
        if party == 1 && chance(&mut rng, rates.common_names) {
            give_common_name(&mut rng, &mut leader);
        }
        let twins = party > 1 && chance(&mut rng, rates.twins);
        let first = people.len();
        people.push(leader.clone());
        for k in 1..party {
            let mut member =
                person(&mut rng, nation, Some(leader.family.clone()), Some(consecutive(&leader.passport, k)), day);
            if twins && k == 1 {
                member.dob = leader.dob;
            }
            people.push(member);
        }
        let visits = match rng.random_range(0..100) {
            x if x < rates.visits.0 => 1,
            x if x < rates.visits.1 => 2,
            _ => rng.random_range(3..=5),
        };
        let mut visit_day = day;
        let mut days_used = Vec::with_capacity(visits);
        for _ in 0..visits {
            // one entry a day at most: a re-drawn day for a visit that fell on one already used
            while days_used.contains(&visit_day) {
                visit_day = first_day + Days::new(rng.random_range(0..span_days));
            }
            days_used.push(visit_day);
            for p in first..people.len() {
                if entries.len() < n_entries {
                    entries.push(Entry { person: p, date: visit_day });
                }
                // recorded twice the same day (`--hard`)
                if entries.len() < n_entries && chance(&mut rng, rates.same_day_twice) {
                    entries.push(Entry { person: p, date: visit_day });
                }
            }
            visit_day = first_day + Days::new(rng.random_range(0..span_days));
        }
    }
    // Entries in date order, as the quarantine system would export them; ids follow that order (a stable sort:
    // a person's two records of one day keep theirs).
    entries.sort_by_key(|e| e.date);
    let common_entries: Vec<usize> = (0..entries.len()).filter(|&i| people[entries[i].person].common).collect();
    let mut by_person: Vec<Vec<usize>> = vec![Vec::new(); people.len()];
    for (i, e) in entries.iter().enumerate() {
        by_person[e.person].push(i);
    }

    write_entries(&out_dir.join("ENTRIES.csv"), &mut rng, &people, &entries)?;

    // Reports.
    let mut reports = csv_file(&out_dir.join("REPORTS.csv"), REPORT_HEADER)?;
    let mut truth = csv_file(&out_dir.join("TRUTH.csv"), TRUTH_HEADER)?;
    for r in 1..=n_reports {
        let lookalike = !common_entries.is_empty() && chance(&mut rng, rates.lookalikes);
        let stranger = lookalike || entries.is_empty() || rng.random_bool(STRANGERS);
        let (p, diagnosis, true_entry) = if lookalike {
            // no entry record, but the common name, sex and (nearly) the date of birth of an entrant diagnosed
            // soon after that entrant's entry
            let e = &entries[*pick(&mut rng, &common_entries)];
            let twin = &people[e.person];
            let diagnosis = e.date + Days::new(rng.random_range(0..29));
            let mut p = person(&mut rng, twin.nation, None, None, diagnosis);
            match rng.random_range(0..10) {
                0..5 => p = Person { passport: p.passport, dob: one_day_off(&mut rng, twin.dob), ..twin.clone() },
                5..8 => p = Person { passport: p.passport, dob: one_digit_off(&mut rng, twin.dob), ..twin.clone() },
                _ => {
                    // the family name and date of birth; the given names are the stranger's own
                    p.family = twin.family.clone();
                    p.dob = twin.dob;
                    p.sex = twin.sex;
                }
            }
            (p, diagnosis, None)
        } else if stranger {
            let nation = weighted(&mut rng, NATIONS, |n| n.1);
            let diagnosis = first_day + Days::new(rng.random_range(0..span_days + 60));
            let mut p = person(&mut rng, nation, None, None, diagnosis);
            if !people.is_empty() && rng.random_bool(1.0 / 3.0) {
                // shares the name of an entrant (common names)
                let other = pick(&mut rng, &people);
                p = Person { passport: p.passport, dob: p.dob, sex: p.sex, ..other.clone() };
            }
            (p, diagnosis, None)
        } else {
            let e = &entries[rng.random_range(0..entries.len())];
            let delay = match rng.random_range(0..100) {
                0..50 => rng.random_range(0..15),
                50..80 => rng.random_range(15..29),
                _ => rng.random_range(29..121),
            };
            let diagnosis = e.date + Days::new(delay);
            // the person's latest entry on or before the diagnosis date
            // (the first of two records of that day: the engine's choice between records of one person)
            let truth = by_person[e.person]
                .iter()
                .copied()
                .filter(|&i| entries[i].date <= diagnosis)
                .max_by_key(|&i| (entries[i].date, std::cmp::Reverse(i)));
            (people[e.person].clone(), diagnosis, truth)
        };
        let (passport, typing) = if lookalike && rng.random_bool(0.7) {
            (String::new(), Typing::Missing)
        } else {
            corrupt_passport(&mut rng, &p.passport)
        };
        let missing = if passport.is_empty() { rates.nationality_missing.1 } else { rates.nationality_missing.0 };
        let nationality = match rng.random_range(0..100) {
            x if x < missing => String::new(),
            x if x < missing + 2 => NATIONS[rng.random_range(0..NATIONS.len())].0.to_owned(),
            _ => NATIONS[p.nation].0.to_owned(),
        };
        let (name, kana) = report_name(&mut rng, &p);
        let dob = report_dob(&mut rng, p.dob);
        let sex = match rng.random_range(0..100) {
            0..2 => "",
            2..3 => {
                if p.sex == "M" {
                    "F"
                } else {
                    "M"
                }
            }
            _ => p.sex,
        };
        let prefecture = format!("{:02}", [13, 27, 14, 23, 40, 1, 11, 12, 26, 28, 47][rng.random_range(0..11)]);
        let id = format!("R{r:08}");
        let diagnosis = diagnosis.to_string();
        reports.write_record([&id, &passport, &nationality, &name, &kana, &dob, sex, &diagnosis, &prefecture])?;
        let entry_id = true_entry.map(|i| format!("E{:010}", i + 1)).unwrap_or_default();
        truth.write_record([&id, &entry_id, typing.as_str()])?;
    }
    reports.flush()?;
    truth.flush()?;
    eprintln!(
        "{} people, {} entries, {} reports written to {}",
        people.len(),
        entries.len(),
        n_reports,
        out_dir.display()
    );
    Ok(())
}

/// A CSV file with its header row written. The csv crate quotes a value only when it must (a comma, quote or line
/// break in it), so the files are byte for byte what they were when written by hand.
fn csv_file(path: &Path, header: &str) -> anyhow::Result<csv::Writer<std::fs::File>> {
    let mut w = csv::WriterBuilder::new()
        .buffer_capacity(1 << 20)
        .from_path(path)
        .with_context(|| format!("creating {}", path.display()))?;
    w.write_record(header.split(','))?;
    Ok(w)
}

fn write_entries(path: &Path, rng: &mut Sequence, people: &[Person], entries: &[Entry]) -> anyhow::Result<()> {
    let mut w = csv_file(path, ENTRY_HEADER)?;
    for (i, e) in entries.iter().enumerate() {
        let p = &people[e.person];
        let port = PORTS[weighted(rng, PORTS, |p| p.1)].0;
        let result = match rng.random_range(0..100) {
            0..90 => "negative",
            90..91 => "positive",
            _ => "not_tested",
        };
        w.write_record([
            &format!("E{:010}", i + 1),
            &p.passport,
            NATIONS[p.nation].0,
            &p.family.0,
            &p.given_passport(),
            &p.dob.to_string(),
            p.sex,
            &e.date.to_string(),
            port,
            result,
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_files_as_before_the_move_to_hersys_bench() {
        // Pinned from `hersys gen linkage --entries 300 --reports 100 --seed 1` as it was in infra/hersys-local.
        let dir = tempfile::tempdir().unwrap();
        let out_dir = dir.path().to_owned();
        run(Args { entries: 300, reports: 100, seed: 1, out_dir, hard: false, span_days: SPAN_DAYS }).unwrap();
        let files: Vec<String> =
            ["ENTRIES.csv", "REPORTS.csv", "TRUTH.csv"].iter().map(|f| crate::sha256_of(&dir.path().join(f))).collect();
        assert_eq!(
            files,
            [
                "6dee8e3f84f0c8cf04ee390b062a55ca1d5bb4bb65b4edc30971a50209c85039",
                "1835ca295b7b0df343a5fe5fd15a1609dcd69ee8715c53ef46e16907415af220",
                "9a029b5f8ab840760fb63c7ebfd1a6f7bc64df702e10a395f581e04ba1f759c0",
            ]
        );
    }

    #[test]
    fn the_span_sets_the_daily_rate_of_entries() {
        let dir = tempfile::tempdir().unwrap();
        let out_dir = dir.path().to_owned();
        run(Args { entries: 2_000, reports: 10, seed: 3, out_dir, hard: false, span_days: 10 }).unwrap();
        let text = std::fs::read_to_string(dir.path().join("ENTRIES.csv")).unwrap();
        let mut days: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').nth(7).unwrap()).collect();
        days.sort_unstable();
        days.dedup();
        assert_eq!(days.first(), Some(&"2022-12-22"));
        assert_eq!(days.last(), Some(&"2022-12-31"), "the last ten days, each with entries");
        assert_eq!(days.len(), 10);
    }

    #[test]
    fn consecutive_numbers_keep_the_format() {
        assert_eq!(consecutive("E12345678", 1), "E12345679");
        assert_eq!(consecutive("E12345679", 1), "E12345680");
        assert_eq!(consecutive("P1234567A", 2), "P1234569A");
        assert_eq!(consecutive("M99999999", 1), "M00000000");
    }

    #[test]
    fn most_katakana_readings_agree_with_their_latin_names_by_sound() {
        use linkage_engine::names::{Name, NameLevel, compare_kana};
        let pools: Vec<(&[u8; 3], &[Nk])> = vec![
            (b"CHN", CHN_FAMILY),
            (b"CHN", CHN_GIVEN),
            (b"KOR", KOR_FAMILY),
            (b"KOR", KOR_GIVEN),
            (b"TWN", TWN_FAMILY),
            (b"TWN", TWN_GIVEN),
            (b"HKG", HKG_FAMILY),
            (b"HKG", HKG_GIVEN),
            (b"USA", USA_FAMILY),
            (b"USA", USA_GIVEN),
            (b"THA", THA_FAMILY),
            (b"THA", THA_GIVEN),
            (b"VNM", VNM_FAMILY),
            (b"VNM", VNM_MIDDLE),
            (b"VNM", VNM_GIVEN),
            (b"PHL", PHL_FAMILY),
            (b"PHL", PHL_GIVEN),
            (b"IDN", IDN_FAMILY),
            (b"IDN", IDN_GIVEN),
        ];
        let (mut agree, mut total, mut misses) = (0, 0, Vec::new());
        for (nationality, pool) in pools {
            for (latin, kana) in pool {
                total += 1;
                // a two-token name so that agreement of the one token is a full agreement
                let level =
                    compare_kana(&Name::kana(&format!("{kana} ア")), &Name::latin(&format!("{latin} A")), *nationality);
                if level == NameLevel::KanaAgree {
                    agree += 1;
                } else {
                    misses.push(format!("{latin}/{kana}"));
                }
            }
        }
        assert!(agree * 100 >= total * 97, "{agree} of {total}; misses: {misses:?}");
    }

    #[test]
    fn passport_corruptions_are_of_the_stated_kinds() {
        let mut rng = Sequence::new(7);
        let mut seen = std::collections::HashMap::new();
        for _ in 0..20_000 {
            let (typed, typing) = corrupt_passport(&mut rng, "E10234568");
            *seen.entry(typing.as_str()).or_insert(0) += 1;
            match typing {
                Typing::Correct => assert_eq!(typed, "E10234568"),
                Typing::Missing => assert!(typed.is_empty()),
                _ => assert_ne!(typed, "E10234568"),
            }
        }
        let missing = seen["missing"] as f64 / 20_000.0;
        assert!((missing - 0.20).abs() < 0.02, "{seen:?}");
        assert!(seen["confusable"] > 0 && seen["typo"] > 0 && seen["formatting"] > 0, "{seen:?}");
    }
}
