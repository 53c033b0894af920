//! Names for comparison. Latin names: NFKC, upper case, diacritics removed (NGUYỄN → NGUYEN), hyphens and
//! apostrophes joined (MIN-JUN → MINJUN), split into tokens on spaces, compared as a multiset (order-insensitive,
//! so given and family name swapped still agree). Katakana readings: transliterated into the Hepburn of Japanese
//! passports (long vowels unmarked: サトウ → SATO, オオノ → ONO; ン before B/M/P → M; ッ doubles the consonant),
//! then both sides reduced to a sound key that ignores what katakana cannot tell apart (vowels, L/R, voicing...),
//! which is why a katakana agreement is weak evidence (ZHANG, CHANG and JANG all read チャン).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Bytes of name text kept inline; longer names lose their last tokens.
pub const NAME_BYTES: usize = 46;
/// Tokens kept.
pub const MAX_TOKENS: usize = 6;

/// A name as compared: up to [`MAX_TOKENS`] upper-case ASCII tokens, inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name {
    buf: [u8; NAME_BYTES],
    ends: [u8; MAX_TOKENS],
    count: u8,
}

impl Default for Name {
    fn default() -> Self {
        Name { buf: [0; NAME_BYTES], ends: [0; MAX_TOKENS], count: 0 }
    }
}

impl Name {
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn token(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.buf[start..self.ends[i] as usize]
    }

    pub fn tokens(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|i| self.token(i))
    }

    fn used(&self) -> usize {
        if self.count == 0 { 0 } else { self.ends[self.count as usize - 1] as usize }
    }

    /// Appends one token; ignored when empty or when there is no room left.
    pub fn push_token(&mut self, token: &[u8]) {
        let used = self.used();
        if token.is_empty() || self.len() == MAX_TOKENS || used + token.len() > NAME_BYTES {
            return;
        }
        self.buf[used..used + token.len()].copy_from_slice(token);
        self.ends[self.len()] = (used + token.len()) as u8;
        self.count += 1;
    }

    /// Appends the tokens of a Latin-script name (see the module documentation for the rules).
    pub fn push_latin(&mut self, raw: &str) {
        let mut token = [0u8; NAME_BYTES];
        let mut n = 0usize;
        let add = |this: &mut Name, c: char, token: &mut [u8; NAME_BYTES], n: &mut usize| {
            if c.is_whitespace() || c == ',' || c == '・' || c == '/' {
                this.push_token(&token[..*n]);
                *n = 0;
                return;
            }
            let mut put = |b: u8| {
                if *n < NAME_BYTES {
                    token[*n] = b;
                    *n += 1;
                }
            };
            match c {
                'a'..='z' => put(c as u8 - 32),
                'A'..='Z' => put(c as u8),
                'Đ' | 'đ' | 'Ð' | 'ð' => put(b'D'),
                'ß' => {
                    put(b'S');
                    put(b'S')
                }
                'Æ' | 'æ' => {
                    put(b'A');
                    put(b'E')
                }
                'Œ' | 'œ' => {
                    put(b'O');
                    put(b'E')
                }
                'Ø' | 'ø' => put(b'O'),
                'Ł' | 'ł' => put(b'L'),
                'ı' => put(b'I'),
                _ => {} // hyphens, apostrophes, dots, digits, combining marks and other scripts: dropped
            }
        };
        if raw.is_ascii() {
            for c in raw.chars() {
                add(self, c, &mut token, &mut n);
            }
        } else {
            // NFKC first (full-width letters), then NFD to split off the diacritics, which are dropped
            for c in raw.nfkc().collect::<String>().nfd().filter(|c| !is_combining_mark(*c)) {
                add(self, c, &mut token, &mut n);
            }
        }
        self.push_token(&token[..n]);
    }

    pub fn latin(raw: &str) -> Name {
        let mut n = Name::default();
        n.push_latin(raw);
        n
    }

    /// The romaji tokens of a katakana (or hiragana) reading, in passport Hepburn.
    pub fn kana(raw: &str) -> Name {
        let mut n = Name::default();
        let mut romaji = String::new();
        for part in raw
            .nfkc()
            .collect::<String>()
            .split(|c: char| c.is_whitespace() || matches!(c, '・' | '=' | '＝' | '゠' | ',' | '、'))
        {
            romaji.clear();
            kana_to_romaji(part, &mut romaji);
            n.push_token(romaji.as_bytes());
        }
        n
    }
}

/// Whether the text holds kana (then it is a reading, not a Latin name).
pub fn has_kana(raw: &str) -> bool {
    raw.chars().any(|c| ('\u{3041}'..='\u{30FF}').contains(&c) || ('\u{FF66}'..='\u{FF9F}').contains(&c))
}

// Long: a table: each kana's romaji.
fn base_romaji(c: char) -> Option<&'static str> {
    // hiragana → katakana
    let c = if ('\u{3041}'..='\u{3096}').contains(&c) { char::from_u32(c as u32 + 0x60)? } else { c };
    Some(match c {
        'ア' | 'ァ' => "A",
        'イ' | 'ィ' | 'ヰ' => "I",
        'ウ' | 'ゥ' => "U",
        'エ' | 'ェ' | 'ヱ' => "E",
        'オ' | 'ォ' | 'ヲ' => "O",
        'カ' | 'ヵ' => "KA",
        'キ' => "KI",
        'ク' => "KU",
        'ケ' | 'ヶ' => "KE",
        'コ' => "KO",
        'ガ' => "GA",
        'ギ' => "GI",
        'グ' => "GU",
        'ゲ' => "GE",
        'ゴ' => "GO",
        'サ' => "SA",
        'シ' => "SHI",
        'ス' => "SU",
        'セ' => "SE",
        'ソ' => "SO",
        'ザ' => "ZA",
        'ジ' => "JI",
        'ズ' => "ZU",
        'ゼ' => "ZE",
        'ゾ' => "ZO",
        'タ' => "TA",
        'チ' => "CHI",
        'ツ' => "TSU",
        'テ' => "TE",
        'ト' => "TO",
        'ダ' => "DA",
        'ヂ' => "JI",
        'ヅ' => "ZU",
        'デ' => "DE",
        'ド' => "DO",
        'ナ' => "NA",
        'ニ' => "NI",
        'ヌ' => "NU",
        'ネ' => "NE",
        'ノ' => "NO",
        'ハ' => "HA",
        'ヒ' => "HI",
        'フ' => "FU",
        'ヘ' => "HE",
        'ホ' => "HO",
        'バ' => "BA",
        'ビ' => "BI",
        'ブ' => "BU",
        'ベ' => "BE",
        'ボ' => "BO",
        'パ' => "PA",
        'ピ' => "PI",
        'プ' => "PU",
        'ペ' => "PE",
        'ポ' => "PO",
        'マ' => "MA",
        'ミ' => "MI",
        'ム' => "MU",
        'メ' => "ME",
        'モ' => "MO",
        'ヤ' | 'ャ' => "YA",
        'ユ' | 'ュ' => "YU",
        'ヨ' | 'ョ' => "YO",
        'ラ' => "RA",
        'リ' => "RI",
        'ル' => "RU",
        'レ' => "RE",
        'ロ' => "RO",
        'ワ' | 'ヮ' => "WA",
        'ン' => "N",
        'ヴ' => "VU",
        _ => return None,
    })
}

/// Appends the passport-Hepburn romaji of a katakana or hiragana word to `out`; other characters are skipped.
pub fn kana_to_romaji(word: &str, out: &mut String) {
    let start = out.len();
    let mut geminate = false;
    for c in word.chars() {
        let c = if ('\u{3041}'..='\u{3096}').contains(&c) { char::from_u32(c as u32 + 0x60).unwrap_or(c) } else { c };
        match c {
            'ッ' => geminate = true,
            'ー' | '〜' | '~' => {} // long vowel mark: not written in passports
            'ャ' | 'ュ' | 'ョ' if out.len() > start && out.ends_with('I') => {
                out.pop();
                let v = &base_romaji(c).unwrap_or("YA")[1..];
                if !(out.ends_with("SH") || out.ends_with("CH") || out.ends_with('J')) {
                    out.push('Y');
                }
                out.push_str(v);
            }
            'ァ' | 'ィ' | 'ゥ' | 'ェ' | 'ォ'
                if out.len() > start
                    && (out.ends_with('U') || out.ends_with('I') || out.ends_with('E') || out.ends_with('O')) =>
            {
                let v = base_romaji(c).unwrap_or("A");
                let Some(last) = out.pop() else { continue };
                if out.len() == start || out.ends_with(['A', 'I', 'U', 'E', 'O']) {
                    // ウィ → WI, イェ → YE: the vowel becomes a glide
                    out.push(if last == 'I' { 'Y' } else { 'W' });
                }
                out.push_str(v);
            }
            _ => {
                let Some(r) = base_romaji(c) else { continue };
                if geminate {
                    geminate = false;
                    if let Some(first) = r.chars().next().filter(|f| !"AIUEON".contains(*f)) {
                        out.push(if r.starts_with("CH") { 'T' } else { first });
                    }
                }
                if r == "N" {
                    out.push('N');
                    continue;
                }
                if out.ends_with('N') && out.len() > start && matches!(r.as_bytes()[0], b'B' | b'M' | b'P') {
                    // passport Hepburn: ン before B, M, P is written M (NAMBA, HOMMA)
                    out.pop();
                    out.push('M');
                }
                out.push_str(r);
            }
        }
    }
    // long vowels are not written in passports: OU → O, OO → O, UU → U
    let mut s: String = out[start..].to_owned();
    for (from, to) in [("OU", "O"), ("OO", "O"), ("UU", "U")] {
        while let Some(i) = s.find(from) {
            s.replace_range(i..i + 2, to);
        }
    }
    out.truncate(start);
    out.push_str(&s);
}

/// Up to this many bytes of sound key are kept.
pub const KEY_BYTES: usize = 12;

/// A sound key: what survives of a token once written in katakana and read back. Vowels go (katakana adds them
/// after every consonant, and loses length and quality), as do H, W, Y, and R or L before a consonant (katakana
/// writes them ル, which the reading drops alike) or R at the end (not pronounced in English-like readings);
/// consonants fall into classes katakana does not separate (L/R, B/P/V, F/H, S/Z/J/CH/SH/ZH/X/Q, K/C/G, T/D,
/// N/M/NG). Equal keys are weak evidence of the same name.
///
/// Some spellings are read in more than one way, by the language the name comes from: see [`Reading`] and
/// [`TokenKeys`]; [`SoundKey::of`] is the common reading.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct SoundKey {
    bytes: [u8; KEY_BYTES],
    len: u8,
}

/// Readings of a spelling other than the common one, one bit each. A token is keyed in the common reading and in
/// each of these that applies to it, since the comparison does not know the language of a name (a Filipino JOSE
/// and an American JOSEPH; a Vietnamese DUNG and a Chinese DUNG).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Reading(u8);

impl Reading {
    pub const COMMON: Reading = Reading(0);
    /// Spanish J is an H: JOSE ホセ, JUAN フアン.
    pub const SPANISH_J: Reading = Reading(1);
    /// Vietnamese D (the letter without a stroke; Đ loses its stroke when folded, and is read D) is a Z in the
    /// northern reading katakana follows: DUNG ズン, DUONG ズオン.
    pub const VIETNAMESE_D: Reading = Reading(1 << 1);
    /// A Thai final L is pronounced N: RATTANAKUL ラッタナクン.
    pub const THAI_FINAL_L: Reading = Reading(1 << 2);
    /// The R of a Thai initial SR is silent: SRISUK シースック.
    pub const THAI_SR: Reading = Reading(1 << 3);
    /// A G before E or I is soft in English and Spanish: ANGELICA アンジェリカ, GEORGE ジョージ.
    pub const SOFT_G: Reading = Reading(1 << 4);
    /// CH of Greek origin is a K: JERICHO ジェリコ.
    pub const HARD_CH: Reading = Reading(1 << 5);
    /// The Korean family name 이 (LEE, LI, RHEE, YI) is read イ: the whole token is one vowel.
    pub const KOREAN_I: Reading = Reading(1 << 6);
    /// A katakana ル before a consonant is a syllable of its own in Chinese readings (WEILUN ウェイルン: LUN), not
    /// an R or L before a consonant (MARTINEZ マルティネス).
    pub const SYLLABLE_RU: Reading = Reading(1 << 7);
    const ALL: [Reading; 8] = [
        Reading::SPANISH_J,
        Reading::VIETNAMESE_D,
        Reading::THAI_FINAL_L,
        Reading::THAI_SR,
        Reading::SOFT_G,
        Reading::HARD_CH,
        Reading::KOREAN_I,
        Reading::SYLLABLE_RU,
    ];

    /// The readings a katakana reading's own romaji may need (its CH, J and D are what they say).
    pub const KATAKANA: Reading = Reading::SYLLABLE_RU;

    /// The readings a Latin name of this nationality (an entry's, from the passport) may be given in katakana: the
    /// language of the name decides (a Korean JUNG is not read フン, a Chinese CHANG not カン). A nationality
    /// unknown here gets the English and Spanish ones.
    pub fn for_nationality(nationality: [u8; 3]) -> Reading {
        const SPANISH: &[&[u8; 3]] = &[
            b"PHL", b"ESP", b"MEX", b"ARG", b"BOL", b"CHL", b"COL", b"CRI", b"CUB", b"DOM", b"ECU", b"GTM", b"HND",
            b"NIC", b"PAN", b"PER", b"PRY", b"SLV", b"URY", b"VEN",
        ];
        // romanisations of their own, in which a CH or a G before E or I has one reading
        const ASIAN: &[&[u8; 3]] = &[
            b"CHN", b"TWN", b"HKG", b"MAC", b"KOR", b"PRK", b"VNM", b"THA", b"JPN", b"MNG", b"IDN", b"MYS", b"KHM",
            b"LAO", b"MMR", b"NPL",
        ];
        let mut r = 0;
        match &nationality {
            b"KOR" | b"PRK" => r |= Reading::KOREAN_I.0,
            b"VNM" => r |= Reading::VIETNAMESE_D.0,
            b"THA" => r |= Reading::THAI_FINAL_L.0 | Reading::THAI_SR.0,
            n if SPANISH.contains(&n) => r |= Reading::SPANISH_J.0,
            _ => {}
        }
        if !ASIAN.contains(&&nationality) {
            r |= Reading::SOFT_G.0 | Reading::HARD_CH.0;
        }
        Reading(r)
    }

    fn has(self, other: Reading) -> bool {
        self.0 & other.0 != 0
    }
}

impl SoundKey {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The key of the common reading.
    pub fn of(token: &[u8]) -> SoundKey {
        SoundKey::read(token, Reading::COMMON).0
    }

    /// The key of `token` in `reading`, and the other readings that would apply to it.
    // Long: one state machine over the token's letters, a rule of the sound key each arm; the linkage's
    // hottest code, kept whole so that it stays one loop.
    pub fn read(token: &[u8], reading: Reading) -> (SoundKey, Reading) {
        let mut k = SoundKey::default();
        let mut applies = 0u8;
        let is_vowel = |b: u8| matches!(b, b'A' | b'E' | b'I' | b'O' | b'U' | b'Y');
        let at = |i: usize| token.get(i).copied().unwrap_or(0);
        let mut i = 0;
        let push = |k: &mut SoundKey, c: u8| {
            if (k.len as usize) < KEY_BYTES && (k.len == 0 || k.bytes[k.len as usize - 1] != c) {
                k.bytes[k.len as usize] = c;
                k.len += 1;
            }
        };
        while i < token.len() {
            let (c, n) = (token[i], at(i + 1));
            // the other readings first: where one applies it is noted, and used if asked for
            let other = match (c, n) {
                (b'J', _) => Some((Reading::SPANISH_J, b'H', 1)),
                (b'D', _) if i == 0 => Some((Reading::VIETNAMESE_D, b'S', 1)),
                (b'L', 0) if i > 0 => Some((Reading::THAI_FINAL_L, b'N', 1)),
                (b'R', _) if i == 1 && token[0] == b'S' => Some((Reading::THAI_SR, 0, 1)),
                (b'G', b'E' | b'I') => Some((Reading::SOFT_G, b'S', 1)),
                // the common reading takes NG as one sound: ANGELICA's N alone, then its soft G
                (b'N', b'G') if i > 0 && matches!(at(i + 2), b'E' | b'I') => Some((Reading::SOFT_G, b'N', 1)),
                (b'C', b'H') => Some((Reading::HARD_CH, b'K', 2)),
                (b'L' | b'R', _)
                    if i == 0 && token.len() > 1 && token[1..].iter().all(|&b| matches!(b, b'E' | b'I' | b'H')) =>
                {
                    Some((Reading::KOREAN_I, b'A', token.len()))
                }
                (b'R', b'U') if i > 0 && at(i + 2) != 0 && !is_vowel(at(i + 2)) => {
                    Some((Reading::SYLLABLE_RU, b'R', 2))
                }
                _ => None,
            };
            if let Some((r, class, step)) = other {
                applies |= r.0;
                if reading.has(r) {
                    if class != 0 {
                        push(&mut k, class);
                    }
                    i += step;
                    continue;
                }
            }
            let (class, step) = match (c, n) {
                (b'N', b'G') if token.len() == 2 => (b'N', 2), // Cantonese NG: ン
                (b'N', b'G') if i == 0 => (b'K', 2),           // NGUYEN: グエン
                (b'N', b'G') => (b'N', 2),
                (b'C', b'H') if at(i + 2) == b'R' => (b'K', 2), // CHRISTIAN: クリスチャン
                (b'C', b'H') if at(i + 2) == b'A' && at(i + 3) == b'E' => (b'K', 2), // MICHAEL: マイケル
                (b'Q', b'U') => (b'K', 2),                      // AQUINO: アキノ
                (b'C' | b'S' | b'Z', b'H') => (b'S', 2),
                (b'T', b'H') if i == 0 => (b'T', 2), // THOMAS: トーマス, THI: ティ
                (b'T', b'H') => (b'S', 2),           // SMITH: スミス
                (b'T', b'S') => (b'S', 2),
                (b'T', b'R') if i == 0 => (b'S', 2), // Vietnamese TR: チャン
                (b'P', b'H') if i == 0 && is_vowel(at(i + 2)) => (b'H', 2), // PHAM: ファム
                // read as F, which goes when medial (CHRISTOPHER: クリストファー, JOSEPH: ジョセフ)
                (b'P', b'H') if is_vowel(at(i + 2)) || at(i + 2) == 0 => (0, 2),
                (b'P', b'H') => (b'P', 2),                   // Thai PHROMMA: プロムマ
                (b'T', b'T') if at(i + 2) == b'H' => (0, 1), // MATTHEW: マシュー
                (b'T', b'I') if matches!(at(i + 2), b'A' | b'O') => (b'S', 1), // CHRISTIAN: クリスチャン
                (b'K' | b'G', b'H') => (b'K', 2),
                (b'C', b'K') => (b'K', 2),
                (b'C', b'E' | b'I' | b'Y') => (b'S', 1), // GARCIA: ガルシア
                (b'H', b'S') if i == 0 => (b'S', 2),     // Wade-Giles HSU: シュー
                (b'H', _) if i == 0 => (b'H', 1),        // HU: フー, HUNG: フン
                (b'F', _) if i == 0 => (b'H', 1),        // katakana has no F but フ
                (b'F', _) => (0, 1),                     // HOON: フン, read back FUN: as a medial H
                // Korean drops an initial L before I (LIM: イム), Chinese and English keep it (LIN: リン): an
                // initial L or R before I, E or Y is taken for the vowel when a consonant follows (a bare LI or
                // LEE would agree with every vowel-only reading, WEI and YI among them; see KOREAN_I)
                (b'L' | b'R', b'I' | b'E' | b'Y') if i == 0 && token[1..].iter().any(|&c| !is_vowel(c)) => (b'A', 1),
                (b'R', _) if i > 0 && !is_vowel(n) => (0, 1),
                // WILSON: ウィルソン, read back WIRUSON (a final L stays: MICHAEL マイケル)
                (b'L', _) if i > 0 && n != 0 && !is_vowel(n) => (0, 1),
                (b'R', b'E') if i > 0 && i + 2 == token.len() => (0, 2), // MOORE: ムーア
                // katakana writes an R before a consonant as ル (MARTINEZ: マルティネス), read back RU
                (b'R', b'U') if i > 0 && at(i + 2) != 0 && !is_vowel(at(i + 2)) => (0, 2),
                (b'H' | b'W' | b'Y', _) => (0, 1),
                (v, _) if is_vowel(v) => (if k.len == 0 { b'A' } else { 0 }, 1),
                (b'C' | b'K' | b'G', _) => (b'K', 1),
                (b'X' | b'Q', _) => (b'S', 1), // pinyin X and Q: シ, チ
                (b'S' | b'Z' | b'J', _) => (b'S', 1),
                (b'T' | b'D', _) => (b'T', 1),
                (b'B' | b'P' | b'V', _) => (b'P', 1),
                (b'L' | b'R', _) => (b'R', 1),
                (b'M' | b'N', _) => (b'N', 1),
                (other, _) => (other, 1),
            };
            // a repeated class collapses, across vowels too, since katakana puts a vowel after every consonant
            // (PHROMMA: プロムマ, read back PUROMUMA)
            if class != 0 {
                push(&mut k, class);
            }
            i += step;
        }
        (k, Reading(applies))
    }
}

/// Most keys of one token: the common reading and up to three others.
const READINGS_PER_TOKEN: usize = 4;

/// The sound keys of one token: in the common reading, and in each other [`Reading`] allowed that applies to it
/// (the first three, in the order of [`Reading::ALL`]), distinct.
#[derive(Clone, Copy, Default)]
pub struct TokenKeys {
    keys: [SoundKey; READINGS_PER_TOKEN],
    count: u8,
}

impl TokenKeys {
    pub fn of(token: &[u8], allowed: Reading) -> TokenKeys {
        let (common, applies) = SoundKey::read(token, Reading::COMMON);
        let applies = Reading(applies.0 & allowed.0);
        let mut t = TokenKeys { count: 1, ..TokenKeys::default() };
        t.keys[0] = common;
        for r in Reading::ALL {
            if (t.count as usize) < READINGS_PER_TOKEN && applies.has(r) {
                let (k, _) = SoundKey::read(token, r);
                if !t.keys[..t.count as usize].contains(&k) {
                    t.keys[t.count as usize] = k;
                    t.count += 1;
                }
            }
        }
        t
    }

    pub fn keys(&self) -> &[SoundKey] {
        &self.keys[..self.count as usize]
    }

    /// Whether some reading of one token sounds like some reading of the other (an empty key agrees with nothing).
    pub fn agree(&self, other: &TokenKeys) -> bool {
        self.keys().iter().any(|a| a.len > 0 && other.keys().contains(a))
    }
}

/// How two names compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameLevel {
    /// The same tokens, in any order (joined tokens count as equal: MIN JUN = MINJUN).
    Exact,
    /// Every token of the shorter name is in the longer one (a middle name dropped), at least two tokens.
    Subset,
    /// Every token of the shorter name matches, some only within a spelling slip (one edit, two in long tokens).
    Fuzzy,
    /// Some token agrees, not all.
    Partial,
    /// Compared through a katakana reading: the sound keys of at least two tokens agree (or of the only ones).
    KanaAgree,
    /// Compared through a katakana reading: some token's sound key agrees.
    KanaPartial,
    Different,
    /// Compared through a katakana reading: no token agrees.
    KanaDifferent,
}

/// Optimal string alignment distance, bounded: returns `limit + 1` as soon as the distance must exceed `limit`.
/// No allocation; three rows on the stack, used in turn.
pub fn bounded_osa(a: &[u8], b: &[u8], limit: usize) -> usize {
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    if a.len() > 24 || b.len() > 24 {
        return if a == b { 0 } else { limit + 1 };
    }
    // an edit changes at most two letters' presence: a cheap bound first
    if (letter_mask(a) ^ letter_mask(b)).count_ones() as usize > 2 * limit {
        return limit + 1;
    }
    let m = b.len();
    let mut rows = [[0u8; 25]; 3];
    for (j, p) in rows[0].iter_mut().enumerate().take(m + 1) {
        *p = j as u8;
    }
    for i in 1..=a.len() {
        let (cur, prev, prev2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[cur][0] = i as u8;
        let mut row_min = rows[cur][0];
        for j in 1..=m {
            let cost = u8::from(a[i - 1] != b[j - 1]);
            let mut v = (rows[prev][j] + 1).min(rows[cur][j - 1] + 1).min(rows[prev][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(rows[prev2][j - 2] + 1);
            }
            rows[cur][j] = v;
            row_min = row_min.min(v);
        }
        if row_min as usize > limit {
            return limit + 1;
        }
    }
    (rows[a.len() % 3][m] as usize).min(limit + 1)
}

/// One bit per letter A-Z present (other bytes share bit 26).
fn letter_mask(t: &[u8]) -> u32 {
    t.iter().fold(0u32, |m, &c| m | if c.is_ascii_uppercase() { 1 << (c - b'A') } else { 1 << 26 })
}

fn spelling_slip(a: &[u8], b: &[u8]) -> bool {
    let shorter = a.len().min(b.len());
    // three letters: a letter lost or added only (ZHOU typed ZHO); a changed letter makes another name (WEI, LEI)
    let limit = if shorter >= 8 {
        2
    } else if shorter >= 4 || (shorter == 3 && a.len() != b.len()) {
        1
    } else {
        0
    };
    limit > 0 && bounded_osa(a, b, limit) <= limit
}

fn concat_eq(whole: &[u8], a: &[u8], b: &[u8]) -> bool {
    whole.len() == a.len() + b.len() && whole.starts_with(a) && whole.ends_with(b)
}

/// Compares the Latin name of a report with the name of an entry (family and given names together).
// Long: the tokens are matched in passes that share the two bitsets of used tokens (equal tokens, joined
// tokens either way, then spelling slips), the level read off them after each; on the linkage's hot path.
pub fn compare_latin(report: &Name, entry: &Name) -> NameLevel {
    let (nr, ne) = (report.len(), entry.len());
    if nr == 0 || ne == 0 {
        return NameLevel::Different;
    }
    let mut used_e = 0u32; // bit per entry token
    let mut used_r = 0u32;
    let mut exact = 0usize;
    for i in 0..nr {
        let r = report.token(i);
        if let Some(j) = (0..ne).find(|&j| used_e & (1 << j) == 0 && entry.token(j) == r) {
            used_e |= 1 << j;
            used_r |= 1 << i;
            exact += 1;
        }
    }
    // joined tokens: MINJUN against MIN + JUN, or the other way round
    for i in 0..nr {
        if used_r & (1 << i) != 0 {
            continue;
        }
        let r = report.token(i);
        if let Some(j) = (0..ne.saturating_sub(1))
            .find(|&j| used_e & (3 << j) == 0 && concat_eq(r, entry.token(j), entry.token(j + 1)))
        {
            used_e |= 3 << j;
            used_r |= 1 << i;
            exact += 1;
        }
    }
    for j in 0..ne {
        if used_e & (1 << j) != 0 {
            continue;
        }
        let e = entry.token(j);
        if let Some(i) = (0..nr.saturating_sub(1))
            .find(|&i| used_r & (3 << i) == 0 && concat_eq(e, report.token(i), report.token(i + 1)))
        {
            used_r |= 3 << i;
            used_e |= 1 << j;
            exact += 1;
        }
    }
    let all_r = (1u32 << nr) - 1;
    let all_e = (1u32 << ne) - 1;
    if used_r == all_r && used_e == all_e {
        return NameLevel::Exact;
    }
    if (used_r == all_r || used_e == all_e) && exact >= 2 {
        return NameLevel::Subset;
    }
    let mut fuzzy = 0usize;
    for i in 0..nr {
        if used_r & (1 << i) != 0 {
            continue;
        }
        let r = report.token(i);
        if let Some(j) = (0..ne).find(|&j| used_e & (1 << j) == 0 && spelling_slip(r, entry.token(j))) {
            used_e |= 1 << j;
            used_r |= 1 << i;
            fuzzy += 1;
        }
    }
    if (used_r == all_r || used_e == all_e) && exact + fuzzy >= 2.min(nr.min(ne)) {
        NameLevel::Fuzzy
    } else if exact + fuzzy > 0 {
        NameLevel::Partial
    } else {
        NameLevel::Different
    }
}

/// The sound keys of a katakana reading's tokens.
#[derive(Clone, Copy, Default)]
pub struct SoundKeys {
    tokens: [TokenKeys; MAX_TOKENS],
    count: u8,
}

impl SoundKeys {
    pub fn of(name: &Name) -> SoundKeys {
        let mut k = SoundKeys::default();
        for (i, t) in name.tokens().enumerate() {
            k.tokens[i] = TokenKeys::of(t, Reading::KATAKANA);
        }
        k.count = name.len() as u8;
        k
    }
}

/// Compares a katakana reading (as romaji tokens) with an entry's Latin name, of an entrant of `nationality`,
/// through sound keys.
pub fn compare_kana(reading: &Name, entry: &Name, nationality: [u8; 3]) -> NameLevel {
    compare_kana_keys(&SoundKeys::of(reading), entry, nationality)
}

/// [`compare_kana`] with the reading's sound keys computed beforehand.
pub fn compare_kana_keys(reading: &SoundKeys, entry: &Name, nationality: [u8; 3]) -> NameLevel {
    let (nr, ne) = (reading.count as usize, entry.len());
    if nr == 0 || ne == 0 {
        return NameLevel::KanaDifferent;
    }
    let readings = Reading::for_nationality(nationality);
    let mut entry_keys = [TokenKeys::default(); MAX_TOKENS];
    for (j, k) in entry_keys.iter_mut().enumerate().take(ne) {
        *k = TokenKeys::of(entry.token(j), readings);
    }
    let mut used_e = 0u32;
    let mut agree = 0usize;
    for rk in &reading.tokens[..nr] {
        if let Some(j) = (0..ne).find(|&j| used_e & (1 << j) == 0 && entry_keys[j].agree(rk)) {
            used_e |= 1 << j;
            agree += 1;
        }
    }
    if agree >= 2 || (agree == 1 && nr == 1 && ne == 1) {
        NameLevel::KanaAgree
    } else if agree > 0 {
        NameLevel::KanaPartial
    } else {
        NameLevel::KanaDifferent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn toks(n: &Name) -> Vec<String> {
        n.tokens().map(|t| String::from_utf8_lossy(t).into_owned()).collect()
    }

    fn romaji(s: &str) -> String {
        let mut out = String::new();
        kana_to_romaji(s, &mut out);
        out
    }

    #[test]
    fn latin_names_are_upper_ascii_tokens_without_diacritics() {
        assert_eq!(toks(&Name::latin("Nguyễn Thị Hoa")), ["NGUYEN", "THI", "HOA"]);
        assert_eq!(toks(&Name::latin("ＷＡＮＧ　Ｗｅｉ")), ["WANG", "WEI"]);
        assert_eq!(toks(&Name::latin("Min-jun O'Neil")), ["MINJUN", "ONEIL"]);
        assert_eq!(toks(&Name::latin("  Đặng  Văn ")), ["DANG", "VAN"]);
        assert_eq!(toks(&Name::latin("Müller, José")), ["MULLER", "JOSE"]);
        assert!(Name::latin("  ").is_empty());
    }

    #[test]
    fn long_names_keep_their_first_tokens() {
        let n = Name::latin("A B C D E F G H");
        assert_eq!(n.len(), MAX_TOKENS);
        let long = Name::latin(&"X".repeat(100));
        assert_eq!(long.len(), 1);
        assert_eq!(long.token(0).len(), NAME_BYTES, "a token longer than the buffer is cut");
    }

    #[test]
    fn katakana_becomes_passport_hepburn() {
        for (kana, want) in [
            ("サトウ", "SATO"),
            ("オオノ", "ONO"),
            ("ユウキ", "YUKI"),
            ("シンイチ", "SHINICHI"),
            ("ナンバ", "NAMBA"),
            ("ホンマ", "HOMMA"),
            ("ハットリ", "HATTORI"),
            ("マッチャ", "MATCHA"),
            ("キョウコ", "KYOKO"),
            ("ジュン", "JUN"),
            ("チャン", "CHAN"),
            ("ワン", "WAN"),
            ("ウェイ", "WEI"),
            ("スミス", "SUMISU"),
            ("ファム", "FAMU"),
            ("ティエン", "TIEN"),
            ("ジェームズ", "JEMUZU"),
            ("さとう", "SATO"),
        ] {
            assert_eq!(romaji(kana), want, "{kana}");
        }
    }

    #[test]
    fn half_width_katakana_and_separators_are_handled() {
        assert_eq!(toks(&Name::kana("ｻﾄｳ ﾀﾛｳ")), ["SATO", "TARO"]);
        assert_eq!(toks(&Name::kana("スミス・ジョン")), ["SUMISU", "JON"]);
        assert!(has_kana("ワン　ウェイ") && has_kana("ｻﾄｳ") && !has_kana("WANG WEI"));
    }

    fn key(s: &str) -> Vec<u8> {
        SoundKey::of(s.as_bytes()).as_bytes().to_vec()
    }

    #[test]
    fn sound_keys_agree_where_katakana_cannot_tell() {
        for (latin, kana) in [
            ("ZHANG", "チャン"),
            ("CHANG", "チャン"),
            ("JANG", "チャン"),
            ("TRAN", "チャン"),
            ("WANG", "ワン"),
            ("SMITH", "スミス"),
            ("KIM", "キム"),
            ("PARK", "パク"),
            ("NGUYEN", "グエン"),
            ("LI", "リー"),
            ("WEI", "ウェイ"),
            ("JOHN", "ジョン"),
            ("LIM", "イム"),
            ("MARTINEZ", "マルティネス"),
            ("CRUZ", "クルス"),
            ("PHROMMA", "プロムマ"),
            ("MOORE", "ムーア"),
            ("MATTHEW", "マシュー"),
            ("CHRISTIAN", "クリスチャン"),
            ("MICHAEL", "マイケル"),
            ("HOON", "フン"),
            ("DOHOON", "ドフン"),
            ("NG", "ン"),
        ] {
            assert_eq!(key(latin), key(&romaji(kana)), "{latin} vs {kana}");
        }
        assert_ne!(key("KIM"), key("PARK"));
        assert_ne!(key("SMITH"), key("WANG"));
        assert_ne!(key("LI"), key("WEI"), "a bare LI keeps its L");
    }

    fn cmp(r: &str, e: &str) -> NameLevel {
        compare_latin(&Name::latin(r), &Name::latin(e))
    }

    #[test]
    fn latin_comparison_levels() {
        assert_eq!(cmp("WANG WEI", "WANG WEI"), NameLevel::Exact);
        assert_eq!(cmp("Wei Wang", "WANG WEI"), NameLevel::Exact, "order-insensitive");
        assert_eq!(cmp("KIM MIN JUN", "KIM MIN-JUN"), NameLevel::Exact, "joined tokens");
        assert_eq!(cmp("KIM MINJUN", "KIM MIN JUN"), NameLevel::Exact);
        assert_eq!(cmp("JOHN SMITH", "SMITH JOHN PAUL"), NameLevel::Subset, "middle name dropped");
        assert_eq!(cmp("JOHN SMYTH", "SMITH JOHN"), NameLevel::Fuzzy);
        assert_eq!(cmp("MOHAMMAD RAHMAN", "RAHMAN MUHAMMAD"), NameLevel::Fuzzy, "two slips in a long token");
        assert_eq!(cmp("WANG LEI", "WANG WEI"), NameLevel::Partial, "three letters: no letter changed");
        assert_eq!(cmp("WEI ZHO", "ZHOU WEI"), NameLevel::Fuzzy, "three letters: one lost");
        assert_eq!(cmp("LI WEI", "WANG WEI"), NameLevel::Partial, "two letters: nothing allowed");
        assert_eq!(cmp("LI NA", "WANG WEI"), NameLevel::Different);
    }

    #[test]
    fn kana_comparison_levels() {
        let e = Name::latin("ZHANG WEI");
        let chn = *b"CHN";
        assert_eq!(compare_kana(&Name::kana("チャン ウェイ"), &e, chn), NameLevel::KanaAgree);
        assert_eq!(compare_kana(&Name::kana("ウェイ チャン"), &e, chn), NameLevel::KanaAgree);
        assert_eq!(compare_kana(&Name::kana("チャン リー"), &e, chn), NameLevel::KanaPartial);
        assert_eq!(compare_kana(&Name::kana("スミス ポール"), &e, chn), NameLevel::KanaDifferent);
    }

    /// Whether the one-token names agree when the entrant is of `nationality`.
    fn reads_as(latin: &str, kana: &str, nationality: &[u8; 3]) -> bool {
        compare_kana(&Name::kana(kana), &Name::latin(latin), *nationality) == NameLevel::KanaAgree
    }

    #[test]
    fn readings_of_the_names_language_agree() {
        for (latin, kana, nationality) in [
            ("JOSE", "ホセ", b"PHL"),
            ("JUAN", "フアン", b"MEX"),
            ("JESUS", "ヘスス", b"ESP"),
            ("DUNG", "ズン", b"VNM"),
            ("DUONG", "ズオン", b"VNM"),
            ("DAO", "ザオ", b"VNM"),
            ("RATTANAKUL", "ラッタナクン", b"THA"),
            ("SRISUK", "シースック", b"THA"),
            ("SRIWAN", "シーワン", b"THA"),
            ("LEE", "イ", b"KOR"),
            ("RHEE", "イ", b"KOR"),
            ("ANGELICA", "アンジェリカ", b"PHL"),
            ("GEORGE", "ジョージ", b"GBR"),
            ("JERICHO", "ジェリコ", b"PHL"),
            ("CHRISTOPHER", "クリストファー", b"USA"),
            ("WILSON", "ウィルソン", b"USA"),
            ("KILDONG", "キルドン", b"KOR"),
            ("WEILUN", "ウェイルン", b"TWN"),
        ] {
            assert!(reads_as(latin, kana, nationality), "{latin} vs {kana}");
            // the common reading still agrees where it did
            assert!(reads_as("WANG", "ワン", nationality));
        }
    }

    #[test]
    fn readings_of_another_language_do_not() {
        // a Korean JUNG is not a Spanish H, a Chinese CHANG not a Greek K, a Chinese LI not the Korean イ
        assert!(
            reads_as("JOSE", "ホセ", b"PHL") && !reads_as("JUNG", "フン", b"KOR") && reads_as("JUNG", "チョン", b"KOR")
        );
        assert!(!reads_as("CHANG", "カン", b"TWN") && reads_as("JERICHO", "ジェリコ", b"USA"));
        assert!(!reads_as("LI", "イ", b"CHN") && reads_as("LI", "リー", b"CHN"));
        assert!(!reads_as("DUNG", "ズン", b"CHN") && !reads_as("RATTANAKUL", "ラッタナクン", b"USA"));
        // the reading's own romaji keeps its CH and J: チュー is not GUO, リー not WU
        assert!(!reads_as("GUO", "チュー", b"CHN") && !reads_as("WU", "リー", b"KOR"));
        // a bare LI or LEE still does not agree with a vowel-only reading in the common reading
        assert!(!reads_as("LEE", "ウェイ", b"USA"));
    }

    proptest! {
        #[test]
        fn latin_comparison_is_symmetric_in_order(a in "[A-Z]{1,8}", b in "[A-Z]{1,8}", c in "[A-Z]{1,8}") {
            let one = Name::latin(&format!("{a} {b} {c}"));
            let other = Name::latin(&format!("{c} {a} {b}"));
            prop_assert_eq!(compare_latin(&one, &other), NameLevel::Exact);
        }

        #[test]
        fn normalising_twice_changes_nothing(s in "\\PC{0,30}") {
            let once = Name::latin(&s);
            let joined = toks(&once).join(" ");
            prop_assert!(once == Name::latin(&joined));
        }

        #[test]
        fn bounded_osa_never_exceeds_limit_plus_one(a in "[A-E]{0,10}", b in "[A-E]{0,10}") {
            let d = bounded_osa(a.as_bytes(), b.as_bytes(), 2);
            prop_assert!(d <= 3);
            prop_assert_eq!(d == 0, a == b);
        }
    }
}
