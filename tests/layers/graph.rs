//! The file-level import graph of a crate's `src/`, read from its source text: an edge A → B
//! when file A names an item of file B (`use crate::…`, `super::…`, inline `crate::…` paths),
//! with `pub use` re-exports followed to the file that defines the item. Test-only code
//! (`#[cfg(test)]` modules, inline or in their own file) is left out: layering is about what
//! ships. Module declarations (`mod x;`) are not edges.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// One source file: its module path and the paths it names.
struct SourceFile {
    module: Vec<String>,
    /// `crate`-absolute paths named by the shipping code of the file.
    refs: Vec<Vec<String>>,
    /// Paths that start with a plain name (`registry::resolve`, `use tx::queue`): relative to
    /// this module when that name is one of its child modules.
    relative: Vec<Vec<String>>,
    /// `pub use` re-exports: exported name → absolute path of what it names.
    reexports: HashMap<String, Vec<String>>,
    /// `#[macro_export]` macros defined here.
    macros: Vec<String>,
    test_only_children: BTreeSet<String>,
}

pub struct Graph {
    /// File names relative to the crate's `src/`, indexed.
    pub files: Vec<String>,
    pub edges: BTreeSet<(usize, usize)>,
}

/// Blank out comments, string and char literals (keeping line structure).
fn strip(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'"' || (b[i] == b'r' && i + 1 < b.len() && (b[i + 1] == b'"' || b[i + 1] == b'#')) {
            i = skip_string(b, i);
            out.extend_from_slice(b"\"\"");
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal ('a', '\n', '\''); lifetimes ('a) are left alone.
            let mut j = i + 1;
            if b[j] == b'\\' {
                j += 2;
            }
            while j < b.len() && b[j] != b'\'' {
                j += 1;
            }
            i = j + 1;
            out.extend_from_slice(b"' '");
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The index just past the string literal starting at `i` (plain, raw `r#"…"#`, byte).
fn skip_string(b: &[u8], mut i: usize) -> usize {
    if b[i] == b'r' {
        let mut hashes = 0;
        i += 1;
        while b[i] == b'#' {
            hashes += 1;
            i += 1;
        }
        if b.get(i) != Some(&b'"') {
            return i;
        }
        i += 1;
        let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
        while i < b.len() && !b[i..].starts_with(&close) {
            i += 1;
        }
        return (i + close.len()).min(b.len());
    }
    i += 1;
    while i < b.len() && b[i] != b'"' {
        if b[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    i + 1
}

/// Remove `#[cfg(test)]` items (a `mod x { … }` block, or `mod x;` whose name is recorded).
fn drop_test_items(src: &str, test_children: &mut BTreeSet<String>) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let item_end = after.find([';', '{']).unwrap_or(after.len());
        let head = after[..item_end].trim();
        if after[item_end..].starts_with(';') {
            if let Some(name) = head.strip_prefix("mod ").or_else(|| head.strip_prefix("pub mod ")) {
                test_children.insert(name.trim().to_string());
            }
            rest = &after[item_end + 1..];
            continue;
        }
        // Skip the braced block.
        let bytes = after.as_bytes();
        let mut depth = 0;
        let mut j = item_end;
        while j < bytes.len() {
            match bytes[j] {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        j += 1;
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        rest = &after[j.min(after.len())..];
    }
    out.push_str(rest);
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expand a `use` tree (`a::{b, c::{d as e}}`) into (path, exported name) pairs.
fn expand_use(tree: &str, prefix: &[String], out: &mut Vec<(Vec<String>, String)>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let mut base: Vec<String> = prefix.to_vec();
        base.extend(tree[..open].split("::").map(str::trim).filter(|s| !s.is_empty()).map(String::from));
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_use(&inner[start..i], &base, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand_use(&inner[start..], &base, out);
        return;
    }
    if tree.is_empty() {
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((p, a)) => (p.trim(), Some(a.trim().to_string())),
        None => (tree, None),
    };
    let mut full: Vec<String> = prefix.to_vec();
    full.extend(path.split("::").map(str::trim).filter(|s| !s.is_empty()).map(String::from));
    let name = alias.unwrap_or_else(|| full.last().cloned().unwrap_or_default());
    out.push((full, name));
}

/// Make a path absolute (`crate::` / `super::` / `self::`) from a file at `module`.
fn absolute(path: &[String], module: &[String]) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut base: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.to_vec(),
        "super" => {
            let mut m = module.to_vec();
            m.pop();
            m
        }
        _ => return None,
    };
    let mut rest = rest;
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

fn parse_file(module: Vec<String>, src: &str) -> SourceFile {
    let mut test_only_children = BTreeSet::new();
    let text = drop_test_items(&strip(src), &mut test_only_children);
    let mut refs = Vec::new();
    let mut relative = Vec::new();
    let mut reexports = HashMap::new();
    let mut macros = Vec::new();
    // `use` statements.
    for (i, _) in text.match_indices("use ") {
        let before = text[..i].chars().last();
        if before.is_some_and(is_ident) {
            continue;
        }
        let public = text[..i].trim_end().ends_with("pub") || text[..i].trim_end().ends_with(')');
        let Some(end) = text[i..].find(';') else { continue };
        let mut pairs = Vec::new();
        expand_use(&text[i + 4..i + end], &[], &mut pairs);
        for (path, name) in pairs {
            match absolute(&path, &module) {
                Some(abs) => {
                    if public {
                        reexports.insert(name, abs.clone());
                    }
                    refs.push(abs);
                }
                None => {
                    if public {
                        let mut abs = module.clone();
                        abs.extend(path.iter().cloned());
                        reexports.insert(name, abs);
                    }
                    relative.push(path);
                }
            }
        }
    }
    // Inline paths: crate::a::b, super::x (outside `use`, which were handled above but are
    // found again harmlessly).
    for start in ["crate::", "super::"] {
        for (i, _) in text.match_indices(start) {
            if text[..i].chars().last().is_some_and(|c| is_ident(c) || c == ':') {
                continue;
            }
            let path: String = text[i..].chars().take_while(|&c| is_ident(c) || c == ':').collect();
            if path.ends_with("::") {
                // `super::{a, b}` / `crate::x::*`: a `use` tree, read above.
                continue;
            }
            let segs: Vec<String> = path.split("::").filter(|s| !s.is_empty()).map(String::from).collect();
            if let Some(abs) = absolute(&segs, &module) {
                refs.push(abs);
            }
        }
    }
    for (i, _) in text.match_indices("::") {
        let head: String = text[..i].chars().rev().take_while(|&c| is_ident(c)).collect();
        let head: String = head.chars().rev().collect();
        let start = i - head.len();
        if head.is_empty() || text[..start].ends_with("::") || text[..start].ends_with(|c: char| is_ident(c)) {
            continue;
        }
        let path: String = text[start..].chars().take_while(|&c| is_ident(c) || c == ':').collect();
        if path.ends_with("::") {
            continue;
        }
        relative.push(path.split("::").filter(|s| !s.is_empty()).map(String::from).collect());
    }
    for (i, _) in text.match_indices("macro_rules!") {
        if text[..i].contains("#[macro_export]") {
            let name: String = text[i + 12..].trim_start().chars().take_while(|&c| is_ident(c)).collect();
            macros.push(name);
        }
    }
    SourceFile { module, refs, relative, reexports, macros, test_only_children }
}

/// Read every shipping file of the crate whose root is `src/lib.rs` (or the subtree `sub`
/// of it) and build the graph.
pub fn build(src_root: &Path, sub: &[&str]) -> Graph {
    let mut found = Vec::new();
    collect(src_root, &mut found);
    let mut parsed: BTreeMap<Vec<String>, (String, SourceFile)> = BTreeMap::new();
    for path in found {
        let rel = path.strip_prefix(src_root).unwrap().to_string_lossy().replace('\\', "/");
        if rel == "main.rs" || rel.starts_with("bin/") {
            continue;
        }
        let stem = rel.trim_end_matches(".rs");
        let module: Vec<String> = stem.split('/').filter(|s| *s != "mod" && *s != "lib").map(String::from).collect();
        let src = std::fs::read_to_string(&path).unwrap();
        parsed.insert(module.clone(), (rel, parse_file(module, &src)));
    }
    // Files declared `#[cfg(test)] mod x;` (and everything under them) are test-only.
    let test_only: Vec<Vec<String>> = parsed
        .values()
        .flat_map(|(_, f)| f.test_only_children.iter().map(|c| [f.module.clone(), vec![c.clone()]].concat()))
        .collect();
    parsed.retain(|m, _| !test_only.iter().any(|t| m.starts_with(t)));
    let macros: HashMap<String, Vec<String>> =
        parsed.values().flat_map(|(_, f)| f.macros.iter().map(|n| (n.clone(), f.module.clone()))).collect();
    let modules: Vec<Vec<String>> = parsed.keys().cloned().collect();
    let resolve = |path: &[String]| resolve(path, &parsed, &macros, 0);
    let index: HashMap<Vec<String>, usize> = modules.iter().enumerate().map(|(i, m)| (m.clone(), i)).collect();
    let mut edges = BTreeSet::new();
    for (i, m) in modules.iter().enumerate() {
        let file = &parsed[m].1;
        let children = file.relative.iter().filter_map(|p| {
            let abs: Vec<String> = m.iter().chain(p.iter()).cloned().collect();
            parsed.contains_key(&abs[..m.len() + 1]).then_some(abs)
        });
        let all: Vec<Vec<String>> = file.refs.iter().cloned().chain(children).collect();
        for r in &all {
            if let Some(target) = resolve(r) {
                let j = index[&target];
                if i != j {
                    edges.insert((i, j));
                }
            }
        }
    }
    let sub: Vec<String> = sub.iter().map(|s| s.to_string()).collect();
    let keep: Vec<usize> = (0..modules.len()).filter(|&i| modules[i].starts_with(&sub)).collect();
    let renumber: HashMap<usize, usize> = keep.iter().enumerate().map(|(n, &i)| (i, n)).collect();
    Graph {
        files: keep.iter().map(|&i| parsed[&modules[i]].0.clone()).collect(),
        edges: edges.into_iter().filter_map(|(a, b)| Some((*renumber.get(&a)?, *renumber.get(&b)?))).collect(),
    }
}

/// The module file that defines what `path` names (following `pub use` re-exports).
fn resolve(
    path: &[String],
    parsed: &BTreeMap<Vec<String>, (String, SourceFile)>,
    macros: &HashMap<String, Vec<String>>,
    depth: usize,
) -> Option<Vec<String>> {
    if depth > 8 {
        return None;
    }
    if let [name] = path {
        if let Some(m) = macros.get(name) {
            return Some(m.clone());
        }
    }
    let n = (0..=path.len()).rev().find(|&n| parsed.contains_key(&path[..n]))?;
    let module = path[..n].to_vec();
    if let Some(next) = path.get(n) {
        if let Some(target) = parsed[&module].1.reexports.get(next) {
            let mut followed = target.clone();
            followed.extend(path[n + 1..].iter().cloned());
            if followed != path {
                return resolve(&followed, parsed, macros, depth + 1).or(Some(module));
            }
        }
    }
    Some(module)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Strongly connected components with more than one file (the import cycles), largest first.
pub fn cycles(g: &Graph) -> Vec<Vec<String>> {
    let n = g.files.len();
    let mut adj = vec![Vec::new(); n];
    for &(a, b) in &g.edges {
        adj[a].push(b);
    }
    // Tarjan, iteratively.
    let (mut index, mut low, mut on) = (vec![usize::MAX; n], vec![0; n], vec![false; n]);
    let (mut stack, mut sccs, mut next) = (Vec::new(), Vec::new(), 0);
    for s in 0..n {
        if index[s] != usize::MAX {
            continue;
        }
        let mut work = vec![(s, 0usize)];
        while let Some(&mut (v, ref mut ei)) = work.last_mut() {
            if *ei == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on[v] = true;
            }
            if let Some(&w) = adj[v].get(*ei) {
                *ei += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(u, _)) = work.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on[w] = false;
                    comp.push(g.files[w].clone());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    sccs.push(comp);
                }
            }
        }
    }
    sccs.sort_by_key(|c| std::cmp::Reverse(c.len()));
    sccs
}
