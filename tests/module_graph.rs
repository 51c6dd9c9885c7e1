//! The module graph inside the pure crates: no import cycles, and no module
//! importing from one above it. Read from the sources: every module depends
//! on the modules it declares, and on every module a `crate::`, `super::` or
//! `self::` path in it names (resolved to the deepest module the path
//! reaches). A child importing an item of an ancestor therefore closes a
//! cycle with the ancestor's declaration of it: shared items live in a
//! sibling module instead. Test-only code (`tests.rs`, `tests/`, items under
//! `#[cfg(test)]`) is left out: tests import what they test.
//! Over 400 lines on purpose: a small Rust module reader (declarations,
//! paths, `use` trees) and the graph check, with their own tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Module path of a source file below `src`.
fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_string());
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "tests" {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            out.push(path);
        }
    }
}

/// The source without comments, string and char literals, and items under
/// `#[cfg(test)]`.
fn production_code(text: &str) -> String {
    let mut code = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == 'r'
            && (next == Some('#') || next == Some('"'))
            && !ident_char(prev(&chars, i))
        {
            // A raw string: r"..." or r#"..."#.
            let mut hashes = 0;
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                code.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            code.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            code.push_str("\"\"");
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            // A char literal ('x'); lifetimes have no closing quote.
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else {
            code.push(c);
            i += 1;
        }
    }
    drop_visibility_paths(&drop_test_items(&code))
}

/// `pub(in crate::x)` names who may see an item, not what it uses.
fn drop_visibility_paths(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("pub(in ") {
        out.push_str(&rest[..at]);
        out.push_str("pub(crate)");
        let after = &rest[at..];
        rest = &after[after.find(')').map_or(after.len(), |k| k + 1)..];
    }
    out.push_str(rest);
    out
}

fn prev(chars: &[char], i: usize) -> char {
    if i == 0 {
        ' '
    } else {
        chars[i - 1]
    }
}

fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Drops each item that follows `#[cfg(test)]`: up to its `;`, or to the
/// end of its `{ ... }` block, whichever comes first.
fn drop_test_items(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at + "#[cfg(test)]".len()..];
        let mut depth = 0usize;
        let mut end = item.len();
        for (k, ch) in item.char_indices() {
            match ch {
                ';' if depth == 0 => {
                    end = k + 1;
                    break;
                }
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Expands a `use` tree (`a::{b, c::{d, e as f}}`) into its paths.
fn expand_use(tree: &str) -> Vec<String> {
    // Renames (`x as y`) name nothing new: drop them, then the white space.
    let spaced = tree.replace(',', " , ").replace('}', " } ");
    let mut words = Vec::new();
    let mut iter = spaced.split_whitespace();
    while let Some(w) = iter.next() {
        if w == "as" {
            iter.next();
        } else {
            words.push(w);
        }
    }
    let tree: String = words.concat();
    let mut out = Vec::new();
    expand_into("", &tree, &mut out);
    out
}

fn expand_into(prefix: &str, tree: &str, out: &mut Vec<String>) {
    if let Some(open) = tree.find('{') {
        let head = &tree[..open];
        let inner = &tree[open + 1..tree.len() - 1];
        let mut depth = 0;
        let mut start = 0;
        let mut parts = Vec::new();
        for (k, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&inner[start..k]);
                    start = k + 1;
                }
                _ => {}
            }
        }
        parts.push(&inner[start..]);
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            expand_into(&format!("{prefix}{head}"), part, out);
        }
    } else {
        let path = format!("{prefix}{tree}");
        out.push(path.trim_end_matches("::self").to_string());
    }
}

/// Every `crate::`/`super::`/`self::` path in `code`.
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    // `use` trees first (their braces hide the rest of each path).
    let mut inline = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last().unwrap_or(' ');
        inline.push_str(&rest[..at]);
        let after = &rest[at + 4..];
        if ident_char(before) {
            inline.push_str("use ");
            rest = after;
            continue;
        }
        let end = after.find(';').unwrap_or(after.len());
        found.extend(expand_use(&after[..end]));
        rest = &after[end..];
    }
    inline.push_str(rest);
    // Then paths written inline.
    let chars: Vec<char> = inline.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if ident_char(chars[i]) && (i == 0 || !ident_char(chars[i - 1]) && chars[i - 1] != ':') {
            let mut j = i;
            while j < chars.len() && (ident_char(chars[j]) || chars[j] == ':') {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            if ["crate::", "super::", "self::"]
                .iter()
                .any(|p| word.starts_with(p))
            {
                found.push(word.trim_end_matches(':').to_string());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    found
}

/// The deepest module `path` reaches from module `from`, if it starts at
/// `crate`, `super` or `self`.
fn resolve(from: &Module, path: &str, modules: &BTreeSet<Module>) -> Option<Module> {
    let mut segments = path.split("::").filter(|s| !s.is_empty()).peekable();
    let mut at: Module = match *segments.peek()? {
        "crate" => {
            segments.next();
            Vec::new()
        }
        "super" | "self" => from.clone(),
        _ => return None,
    };
    while let Some(&s) = segments.peek() {
        match s {
            "super" => {
                at.pop();
            }
            "self" => {}
            _ => break,
        }
        segments.next();
    }
    for s in segments {
        let mut deeper = at.clone();
        deeper.push(s.to_string());
        if modules.contains(&deeper) {
            at = deeper;
        } else {
            break;
        }
    }
    Some(at)
}

/// Module -> the modules it depends on.
fn module_graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let code: BTreeMap<Module, String> = files
        .iter()
        .map(|f| {
            (
                module_of(src, f),
                production_code(&std::fs::read_to_string(f).unwrap()),
            )
        })
        .collect();
    let modules: BTreeSet<Module> = code.keys().cloned().collect();
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, text) in &code {
        let deps = graph.entry(module.clone()).or_default();
        // A module depends on the modules it declares.
        for child in modules
            .iter()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
        {
            deps.insert(child.clone());
        }
        for path in paths(text) {
            if let Some(target) = resolve(module, &path, &modules) {
                if &target != module {
                    deps.insert(target);
                }
            }
        }
    }
    graph
}

/// Each cycle found by a depth-first search, as its modules.
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<String>> {
    fn visit(
        node: &Module,
        graph: &BTreeMap<Module, BTreeSet<Module>>,
        stack: &mut Vec<Module>,
        done: &mut BTreeSet<Module>,
        found: &mut Vec<Vec<String>>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = stack.iter().position(|m| m == node) {
            let name = |m: &Module| {
                if m.is_empty() {
                    "crate".to_string()
                } else {
                    m.join("::")
                }
            };
            found.push(stack[at..].iter().chain([node]).map(name).collect());
            return;
        }
        stack.push(node.clone());
        for dep in graph.get(node).into_iter().flatten() {
            visit(dep, graph, stack, done, found);
        }
        stack.pop();
        done.insert(node.clone());
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

fn crate_src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(name)
        .join("src")
}

#[test]
fn core_and_sim_modules_import_no_cycle_and_nothing_above_them() {
    for krate in ["core", "sim"] {
        let graph = module_graph(&crate_src(krate));
        assert!(
            graph.len() > 10,
            "{krate}: read only {} modules",
            graph.len()
        );
        let found = cycles(&graph);
        assert!(
            found.is_empty(),
            "qscale-{krate} has import cycles (each a child importing from above it, or \
             modules importing each other):\n{}",
            found
                .iter()
                .map(|c| c.join(" -> "))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn the_check_sees_a_child_importing_from_its_parent() {
    let modules: BTreeSet<Module> = [vec![], vec!["a".to_string()], vec!["a".into(), "b".into()]]
        .into_iter()
        .collect();
    let from = vec!["a".to_string(), "b".to_string()];
    assert_eq!(
        resolve(&from, "super::Item", &modules),
        Some(vec!["a".to_string()])
    );
    assert_eq!(
        resolve(&from, "crate::a::b::X", &modules),
        Some(from.clone())
    );
    assert_eq!(
        expand_use("crate::x::{a, b::{c, d as e}, self}"),
        vec![
            "crate::x::a",
            "crate::x::b::c",
            "crate::x::b::d",
            "crate::x"
        ]
    );
    let code = production_code("use super::X; // crate::y\n#[cfg(test)]\nmod t { use crate::z; }\nfn f() { crate::w::g(\"super::q\") }");
    assert_eq!(paths(&code), vec!["super::X", "crate::w::g"]);
    let graph: BTreeMap<Module, BTreeSet<Module>> = [
        (vec!["a".to_string()], [from.clone()].into_iter().collect()),
        (from.clone(), [vec!["a".to_string()]].into_iter().collect()),
    ]
    .into_iter()
    .collect();
    assert_eq!(cycles(&graph).len(), 1);
}
