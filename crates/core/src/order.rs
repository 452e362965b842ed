//! Stable sorting compiled once.
//!
//! Each `slice::sort_by` on a new element type or closure compiles the standard library's whole
//! stable sort again: about 11 KiB of wasm each, 178 KiB of the viewer's page in all. These sort
//! a list of indices with a `dyn` comparison instead (one copy of the sort for the whole
//! program), then move the elements into place. Use them wherever the viewer may run the code.

use std::cmp::Ordering;

/// Sorts `v` stably by `compare`, as `slice::sort_by` does.
pub fn sort_by<T>(v: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..v.len()).collect();
    sort_indices(&mut order, &mut |a, b| compare(&v[a], &v[b]));
    permute(v, order);
}

/// Sorts `v` stably, as `slice::sort` does.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// Sorts `v` stably by a key, as `slice::sort_by_key` does.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// The one instantiation of the standard sort.
#[inline(never)]
fn sort_indices(order: &mut [usize], compare: &mut dyn FnMut(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| compare(a, b));
}

/// Rearranges `v` so that `v[k]` becomes what was at `order[k]`, following each cycle of the
/// permutation once (`order` marks a placed position by pointing it at itself).
fn permute<T>(v: &mut [T], mut order: Vec<usize>) {
    for start in 0..v.len() {
        let mut k = start;
        loop {
            let from = order[k];
            order[k] = k;
            if from == start {
                break;
            }
            v.swap(k, from);
            k = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pseudo-random lists with many equal keys, so stability shows.
    fn lists() -> impl Iterator<Item = Vec<(u8, usize)>> {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        (0..300).map(move |n| {
            (0..n % 97)
                .map(|i| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    ((seed % 7) as u8, i)
                })
                .collect()
        })
    }

    #[test]
    fn sorts_as_the_standard_stable_sort_does() {
        for list in lists() {
            let mut want = list.clone();
            want.sort_by_key(|e| e.0);
            let mut got = list.clone();
            sort_by_key(&mut got, |e| e.0);
            assert_eq!(got, want);
            let mut got = list.clone();
            sort_by(&mut got, |a, b| b.0.cmp(&a.0));
            want.sort_by_key(|e| std::cmp::Reverse(e.0));
            assert_eq!(got, want);
            let mut got = list;
            sort(&mut got);
            want.sort();
            assert_eq!(got, want);
        }
    }
}
