//! Small-cell suppression of sex/age tables: a cell of 1 to 4 persons is not shown (primary), and further cells
//! are hidden (secondary) until no hidden cell can be derived from the totals a reader can form: within an area
//! and period, each sex's row over the age bands and each age band's column over the two sexes; across areas,
//! `ALL` = the sum of the 47 prefectures for each sex and age band. The rule: in each of these sums either no
//! cell is hidden or at least two are. A second cell is chosen as the smallest non-zero visible cell of the sum
//! (a zero if there is none), which loses the least.

use super::AREAS;
use super::facts::{AgeBand, DETAIL};

/// Whether a count is small enough to identify people (1 to 4 persons): never shown in public files, here and in the
/// linkage statistics.
pub fn is_small_count(n: u64) -> bool {
    (1..=4).contains(&n)
}

/// `table[area][period][sex * 9 + age]` → `out[area][sex][period][age]`, `None` where suppressed.
pub fn suppress(table: &[Vec<[i64; DETAIL]>]) -> Vec<[Vec<[Option<u64>; AgeBand::COUNT]>; 2]> {
    let periods = table.first().map_or(0, Vec::len);
    let mut out: Vec<[Vec<[Option<u64>; AgeBand::COUNT]>; 2]> = (0..table.len())
        .map(|_| [vec![[None; AgeBand::COUNT]; periods], vec![[None; AgeBand::COUNT]; periods]])
        .collect();
    for t in 0..periods {
        let values: Vec<[u64; DETAIL]> =
            table.iter().map(|area| area[t].map(|v| u64::try_from(v).unwrap_or(0))).collect();
        let hidden = hide(&values);
        for (a, row) in values.iter().enumerate() {
            for k in 0..DETAIL {
                out[a][k / AgeBand::COUNT][t][k % AgeBand::COUNT] = (!hidden[a][k]).then_some(row[k]);
            }
        }
    }
    out
}

/// Which cells of one period to hide. `values[area][cell]`, area 0 being `ALL` when there are 48 areas.
fn hide(values: &[[u64; DETAIL]]) -> Vec<[bool; DETAIL]> {
    let mut hidden: Vec<[bool; DETAIL]> = values.iter().map(|row| row.map(is_small_count)).collect();
    // The sums a reader can form, each a list of (area, cell).
    let mut groups: Vec<Vec<(usize, usize)>> = Vec::new();
    for a in 0..values.len() {
        for sex in 0..2 {
            groups.push((0..AgeBand::COUNT).map(|g| (a, sex * AgeBand::COUNT + g)).collect());
        }
        for g in 0..AgeBand::COUNT {
            groups.push(vec![(a, g), (a, AgeBand::COUNT + g)]);
        }
    }
    if values.len() == AREAS {
        for k in 0..DETAIL {
            groups.push((0..AREAS).map(|a| (a, k)).collect());
        }
    }
    loop {
        let mut changed = false;
        for group in &groups {
            if group.iter().filter(|(a, k)| hidden[*a][*k]).count() != 1 {
                continue;
            }
            let visible = group.iter().filter(|(a, k)| !hidden[*a][*k]);
            let pick = visible
                .clone()
                .filter(|(a, k)| values[*a][*k] > 0)
                .min_by_key(|(a, k)| values[*a][*k])
                .or_else(|| visible.clone().next());
            if let Some(&(a, k)) = pick {
                hidden[a][k] = true;
                changed = true;
            }
        }
        if !changed {
            return hidden;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sum a reader can form has zero or at least two hidden cells.
    #[allow(clippy::needless_range_loop)]
    fn check_no_single(values: &[[u64; DETAIL]], hidden: &[[bool; DETAIL]]) {
        for a in 0..values.len() {
            for sex in 0..2 {
                let n = (0..9).filter(|g| hidden[a][sex * 9 + g]).count();
                assert_ne!(n, 1, "area {a} sex {sex}");
            }
            for g in 0..9 {
                assert_ne!(usize::from(hidden[a][g]) + usize::from(hidden[a][9 + g]), 1, "area {a} age {g}");
            }
        }
        if values.len() == AREAS {
            for k in 0..DETAIL {
                assert_ne!((0..AREAS).filter(|a| hidden[*a][k]).count(), 1, "cell {k} across areas");
            }
        }
    }

    #[test]
    fn cells_of_one_to_four_are_hidden_and_none_can_be_derived() {
        let mut row = [10u64; DETAIL];
        row[3] = 2; // male 30-39
        let values = vec![row];
        let hidden = hide(&values);
        assert!(hidden[0][3], "primary");
        // Its row (male) and column (30-39) each get a second hidden cell.
        assert!((0..9).filter(|g| hidden[0][*g]).count() >= 2);
        assert!(hidden[0][9 + 3]);
        check_no_single(&values, &hidden);
        // A table without small cells shows everything, zeros included.
        let mut clean = [10u64; DETAIL];
        clean[0] = 0;
        assert_eq!(hide(&[clean]), vec![[false; DETAIL]]);
    }

    #[test]
    fn the_smallest_visible_cell_is_the_second_one() {
        let mut row = [50u64; DETAIL];
        row[0] = 1;
        row[9] = 30; // female 0-9: smallest in column 0
        row[5] = 7; // male 50-59: smallest non-zero in the male row
        let hidden = hide(&[row]);
        assert!(hidden[0][0] && hidden[0][9] && hidden[0][5]);
        check_no_single(&[row], &hidden);
    }

    #[test]
    fn across_areas_one_hidden_prefecture_cell_is_not_left_alone() {
        // ALL = sum of prefectures; only Tokyo has a small cell in "male 0-9".
        let mut values = vec![[100u64; DETAIL]; AREAS];
        values[13][0] = 3;
        values[0][0] = 100 * 46 + 3;
        let hidden = hide(&values);
        assert!(hidden[13][0]);
        assert!((0..AREAS).filter(|a| hidden[*a][0]).count() >= 2);
        check_no_single(&values, &hidden);
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn random_tables_never_leave_a_single_hidden_cell() {
        // A fixed pseudo-random walk over small values, many small cells.
        let mut x: u64 = 12345;
        for _ in 0..20 {
            let values: Vec<[u64; DETAIL]> = (0..AREAS)
                .map(|_| {
                    std::array::from_fn(|_| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (x >> 60) % 12
                    })
                })
                .collect();
            let hidden = hide(&values);
            check_no_single(&values, &hidden);
            for a in 0..AREAS {
                for k in 0..DETAIL {
                    if (1..=4).contains(&values[a][k]) {
                        assert!(hidden[a][k]);
                    }
                }
            }
        }
    }

    #[test]
    fn output_is_by_area_sex_period_age() {
        let mut row = [9i64; DETAIL];
        row[AgeBand::COUNT + 8] = 1; // female 80+
        let out = suppress(&[vec![row, [20; DETAIL]]]);
        assert_eq!(out[0][1][0][8], None);
        assert_eq!(out[0][0][1][0], Some(20));
    }
}
