//! The globs of ignore rules and single-region principals: `*` matches any
//! run of characters (`/` and `.` included), `?` exactly one character,
//! everything else itself. Matching is linear-ish and never recursive.

/// Length of the UTF-8 character starting with byte `lead`.
fn char_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// True when `text` matches the whole `pattern`.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Where the last `*` was and where its current match ends in the text.
    let mut star: Option<(usize, usize)> = None;
    while let Some(&tc) = t.get(ti) {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(b'?') => {
                pi += 1;
                ti += char_len(tc);
            }
            Some(&pc) if pc == tc => {
                pi += 1;
                ti += 1;
            }
            _ => {
                let Some((sp, st)) = star else {
                    return false;
                };
                // Let the `*` swallow one more character and retry.
                let next = st + t.get(st).copied().map_or(1, char_len);
                star = Some((sp, next));
                pi = sp + 1;
                ti = next;
            }
        }
    }
    while p.get(pi) == Some(&b'*') {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn stars_question_marks_and_literals() {
        assert!(glob_match("*", ""));
        assert!(glob_match("*", "jobs:daily-etl"));
        assert!(glob_match("jobs:*", "jobs:daily-etl"));
        assert!(!glob_match("jobs:*", "clusters:daily-etl"));
        assert!(glob_match(
            "/Users/*/scratch*",
            "/Users/a@b.com/scratch/x.py"
        ));
        assert!(glob_match("sp-??", "sp-01"));
        assert!(!glob_match("sp-??", "sp-1"));
        assert!(glob_match("é?", "éü"));
        assert!(glob_match("*.tmp_*", "main.sales.tmp_orders"));
        assert!(!glob_match("main.*.orders", "main.sales.orders_x"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        assert!(!glob_match("", "x"));
        assert!(glob_match("", ""));
    }
}
