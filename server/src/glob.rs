//! Glob-style pattern matching with Redis's rules (`KEYS`, `SCAN MATCH`, `CONFIG GET`,
//! `PSUBSCRIBE`): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, and `\` escapes.

/// True if `s` matches `pattern`. `nocase` folds ASCII case.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut budget = 1_000_000usize;
    matches(pattern, s, nocase, &mut budget)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn matches(mut p: &[u8], mut s: &[u8], nocase: bool, budget: &mut usize) -> bool {
    while !p.is_empty() {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                for i in 0..=s.len() {
                    if matches(&p[1..], &s[i..], nocase, budget) {
                        return true;
                    }
                    if *budget == 0 {
                        return false;
                    }
                }
                return false;
            }
            b'?' => {
                if s.is_empty() {
                    return false;
                }
                s = &s[1..];
            }
            b'[' => {
                let Some((&c, rest_s)) = s.split_first() else { return false };
                let (matched, rest_p) = class(&p[1..], c, nocase);
                if !matched {
                    return false;
                }
                s = rest_s;
                p = rest_p;
                continue;
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if s.is_empty() || !eq(p[0], s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if s.is_empty() || !eq(c, s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
    }
    s.is_empty()
}

/// Match `c` against a `[...]` class whose body starts at `p`; returns the result and the
/// pattern after the closing `]`.
fn class(mut p: &[u8], c: u8, nocase: bool) -> (bool, &[u8]) {
    let not = p.first() == Some(&b'^');
    if not {
        p = &p[1..];
    }
    let mut matched = false;
    loop {
        match p {
            [] => break,
            [b'\\', x, ..] => {
                if eq(*x, c, nocase) {
                    matched = true;
                }
                p = &p[2..];
            }
            [b']', ..] => {
                p = &p[1..];
                break;
            }
            [a, b'-', b, ..] => {
                let (mut lo, mut hi) = (*a, *b);
                if lo > hi {
                    std::mem::swap(&mut lo, &mut hi);
                }
                let (cc, lo, hi) = if nocase {
                    (c.to_ascii_lowercase(), lo.to_ascii_lowercase(), hi.to_ascii_lowercase())
                } else {
                    (c, lo, hi)
                };
                if cc >= lo && cc <= hi {
                    matched = true;
                }
                p = &p[3..];
            }
            [x, ..] => {
                if eq(*x, c, nocase) {
                    matched = true;
                }
                p = &p[1..];
            }
        }
    }
    (matched != not, p)
}

#[cfg(test)]
mod tests {
    use super::glob_match as m;

    #[test]
    fn basics() {
        assert!(m(b"*", b"anything", false));
        assert!(m(b"h?llo", b"hello", false));
        assert!(m(b"h*llo", b"heeeello", false));
        assert!(m(b"h[ae]llo", b"hallo", false));
        assert!(!m(b"h[ae]llo", b"hillo", false));
        assert!(m(b"h[^e]llo", b"hallo", false));
        assert!(!m(b"h[^e]llo", b"hello", false));
        assert!(m(b"h[a-b]llo", b"hbllo", false));
        assert!(m(b"h\\*llo", b"h*llo", false));
        assert!(!m(b"h\\*llo", b"hallo", false));
        assert!(m(b"user:*", b"user:1", false));
        assert!(!m(b"user:*", b"usr:1", false));
        assert!(m(b"MAXCLIENTS", b"maxclients", true));
        assert!(!m(b"a", b"", false));
        assert!(m(b"", b"", false));
    }

    #[test]
    fn pathological_pattern_terminates() {
        let p = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let s = [b'a'; 60];
        assert!(!m(p, &s, false));
    }
}
