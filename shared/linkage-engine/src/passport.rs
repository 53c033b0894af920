//! Passport numbers for comparison: the number as typed (NFKC, upper case, no spaces or hyphens) and its folded
//! form, where characters that look alike are made equal (O/Q/D→0, I/L/J→1, Z→2, S→5, G→6, T→7, B→8). The folded
//! form is only for comparison and blocking; what is stored and hashed is the typed form.

use unicode_normalization::UnicodeNormalization;

/// Longest passport number kept (ICAO 9303 allows 9; a few countries' numbers and typing slips run longer).
pub const MAX_LEN: usize = 12;

/// A passport number as compared: up to [`MAX_LEN`] ASCII letters and digits, inline (no allocation).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Passport {
    typed: [u8; MAX_LEN],
    folded: [u8; MAX_LEN],
    len: u8,
}

impl Passport {
    /// Normalises a typed passport number; `None` when there is nothing usable (blank, or no letter or digit).
    /// Characters other than letters and digits (spaces, hyphens, stray punctuation) are dropped; letters and
    /// digits past [`MAX_LEN`] are dropped too.
    pub fn parse(raw: &str) -> Option<Passport> {
        let mut p = Passport::default();
        let mut push = |c: char| {
            if c.is_ascii_alphanumeric() && (p.len as usize) < MAX_LEN {
                let u = c.to_ascii_uppercase() as u8;
                p.typed[p.len as usize] = u;
                p.folded[p.len as usize] = fold(u);
                p.len += 1;
            }
        };
        if raw.is_ascii() {
            raw.chars().for_each(&mut push);
        } else {
            raw.nfkc().for_each(&mut push);
        }
        (p.len > 0).then_some(p)
    }

    pub fn typed(&self) -> &[u8] {
        &self.typed[..self.len as usize]
    }

    pub fn folded(&self) -> &[u8] {
        &self.folded[..self.len as usize]
    }
}

/// The look-alike class of an upper-case letter or digit.
pub fn fold(c: u8) -> u8 {
    match c {
        b'O' | b'Q' | b'D' => b'0',
        b'I' | b'L' | b'J' => b'1',
        b'Z' => b'2',
        b'S' => b'5',
        b'G' => b'6',
        b'T' => b'7',
        b'B' => b'8',
        other => other,
    }
}

/// How two passport numbers compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassportLevel {
    Exact,
    /// Equal once look-alike characters are folded (O for 0, I for 1, ...).
    Folded,
    /// One substitution, insertion, deletion or adjacent transposition apart (after folding).
    OneEdit,
    Different,
}

pub fn compare(a: &Passport, b: &Passport) -> PassportLevel {
    if a.typed() == b.typed() {
        PassportLevel::Exact
    } else if a.folded() == b.folded() {
        PassportLevel::Folded
    } else if within_one_edit(a.folded(), b.folded()) {
        PassportLevel::OneEdit
    } else {
        PassportLevel::Different
    }
}

/// Whether `a` and `b` are at most one substitution, insertion, deletion or adjacent transposition apart.
/// Linear, no allocation.
pub fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if prefix == la && prefix == lb {
        return true;
    }
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    if la == lb {
        // substitution, or transposition of the first differing pair
        ra[1..] == rb[1..] || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
    } else if la > lb {
        ra[1..] == *rb
    } else {
        *ra == rb[1..]
    }
}

/// Calls `f` with the folded number and with each variant that has one position deleted: two numbers within one
/// edit of each other share at least one of these keys (symmetric deletion), so a blocking index on them finds
/// every such pair without comparing all pairs.
pub fn deletion_keys(p: &Passport, mut f: impl FnMut(&[u8])) {
    let folded = p.folded();
    f(folded);
    let mut buf = [0u8; MAX_LEN];
    for skip in 0..folded.len() {
        // variants deleting one of a run of equal characters are identical: emit the first only
        if skip > 0 && folded[skip] == folded[skip - 1] {
            continue;
        }
        buf[..skip].copy_from_slice(&folded[..skip]);
        buf[skip..folded.len() - 1].copy_from_slice(&folded[skip + 1..]);
        f(&buf[..folded.len() - 1]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Passport {
        Passport::parse(s).unwrap()
    }

    #[test]
    fn typed_form_is_nfkc_upper_without_separators() {
        assert_eq!(p("ｅ１２３ ４５６-７８").typed(), b"E12345678");
        assert_eq!(p(" m1234567 ").typed(), b"M1234567");
        assert!(Passport::parse("  - ").is_none());
        assert!(Passport::parse("").is_none());
    }

    #[test]
    fn look_alikes_fold_together() {
        assert_eq!(p("EO1234567").folded(), p("E01234567").folded());
        assert_eq!(p("GI234S67B").folded(), b"612345678");
        assert_eq!(compare(&p("E01234567"), &p("EO1234567")), PassportLevel::Folded);
        assert_eq!(compare(&p("E01234567"), &p("e01234567")), PassportLevel::Exact);
    }

    #[test]
    fn one_edit_covers_substitution_insertion_deletion_transposition() {
        let base = p("E12345678");
        for other in ["E12345679", "E1234567", "E123456789", "E12354678", "12345678", "E21345678"] {
            assert_eq!(compare(&base, &p(other)), PassportLevel::OneEdit, "{other}");
        }
        for other in ["E12345699", "E123456", "E21345687", "K98765432"] {
            assert_eq!(compare(&base, &p(other)), PassportLevel::Different, "{other}");
        }
    }

    fn osa(a: &[u8], b: &[u8]) -> usize {
        let (n, m) = (a.len(), b.len());
        let mut d = vec![vec![0usize; m + 1]; n + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        for (j, cell) in d[0].iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=n {
            for j in 1..=m {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
                }
            }
        }
        d[n][m]
    }

    fn keys(p: &Passport) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        deletion_keys(p, |k| v.push(k.to_vec()));
        v
    }

    proptest! {
        #[test]
        fn within_one_edit_agrees_with_the_textbook_distance(a in "[0-9A-C]{0,9}", b in "[0-9A-C]{0,9}") {
            prop_assert_eq!(within_one_edit(a.as_bytes(), b.as_bytes()), osa(a.as_bytes(), b.as_bytes()) <= 1);
        }

        #[test]
        fn pairs_within_one_edit_share_a_deletion_key(
            a in "[A-Z0-9]{6,9}", pos in 0usize..9, c in "[A-Z0-9]", op in 0u8..4
        ) {
            let mut b = a.clone().into_bytes();
            let pos = pos % b.len();
            match op {
                0 => b[pos] = c.as_bytes()[0],
                1 => { b.remove(pos); }
                2 => b.insert(pos, c.as_bytes()[0]),
                _ => if pos + 1 < b.len() { b.swap(pos, pos + 1) },
            }
            let (pa, pb) = (p(&a), Passport::parse(std::str::from_utf8(&b).unwrap()).unwrap());
            let (ka, kb) = (keys(&pa), keys(&pb));
            prop_assert!(ka.iter().any(|k| kb.contains(k)));
            prop_assert_ne!(compare(&pa, &pb), PassportLevel::Different);
        }
    }
}
