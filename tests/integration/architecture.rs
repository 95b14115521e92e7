//! CI checks the habits: no import cycle between the modules of `src/`, and the layering rules
//! below hold. A small reader of our own (std only) over `crate::`, `super::` and `self::` paths,
//! grouped `use` trees and modules imported by name; comments, string literals and
//! `#[cfg(test)]` items are skipped, since test code may import anything.
//!
//! A file is a module (`src/a/mod.rs` and `src/a.rs` are `a`, `src/a/b.rs` is `a::b`, `lib.rs`
//! and `main.rs` the crate root). A path is an edge to the longest module prefix it names. Edges
//! between a module and its own ancestor or descendant are ignored: a parent re-exporting its
//! child, or a child using its parent's items, is one unit seen from outside.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// The layering table: edit it when a boundary moves. A module named here covers its descendants
// (`pipeline` is also `pipeline::read`); a rule about a module that does not exist is satisfied.

/// What the leaves (values and words every layer uses) may never import.
const ABOVE_THE_LEAVES: &[&str] = &[
    "pipeline", "state", "mail", "app", "cli", "daemon", "console",
];

const RULES: Rules = Rules {
    // Modules that only the listed ones (besides themselves and the crate root) may import.
    imported_only_by: &[
        ("app", &["cli", "daemon", "console"]),
        // The faces talk to each other only through `app`'s typed commands.
        ("cli", &[]),
        ("daemon", &[]),
        ("console", &[]),
    ],
    // Modules that may import only the listed ones (besides their own descendants).
    imports_only: &[(
        "config",
        &[
            "text", "period", "finding", "numbers", "template", "clock", "wording",
        ],
    )],
    // Modules that may never import the listed ones.
    never_imports: &[
        (
            "pipeline",
            &["state", "mail", "app", "cli", "daemon", "console"],
        ),
        // The store keeps what the stages produce (findings, a recipient refused): it may name
        // their types, never call a stage's work.
        ("state", &["mail", "app", "cli", "daemon", "console"]),
        ("mail", &["app", "cli", "daemon", "console"]),
        // The leaves: values and words every layer uses, above `config` at most.
        ("text", ABOVE_THE_LEAVES),
        ("numbers", ABOVE_THE_LEAVES),
        ("period", ABOVE_THE_LEAVES),
        ("finding", ABOVE_THE_LEAVES),
        ("template", ABOVE_THE_LEAVES),
        ("wording", ABOVE_THE_LEAVES),
        ("clock", ABOVE_THE_LEAVES),
        ("crashpoint", ABOVE_THE_LEAVES),
        ("matching", ABOVE_THE_LEAVES),
        ("blank_form", ABOVE_THE_LEAVES),
    ],
    // Edges allowed despite the rules above, as (importer, imported), e.g. ("cli", "daemon::control").
    // `tonghop daemon` is a command of the CLI: it starts the daemon (`daemon::run`), nothing more.
    // The daemon serves the console (`console::serve`), nothing more.
    exceptions: &[("cli", "daemon"), ("daemon", "console")],
};

// ---------------------------------------------------------------------------------------------
// The checks over the real src/.

#[test]
fn no_import_cycle_between_the_modules_of_src() {
    let graph = real_graph();
    let cycles = graph.cycles();
    assert!(
        cycles.is_empty(),
        "{} import cycle(s) between the modules of src/ (edges between a module and its own \
         ancestor or descendant do not count):\n{}",
        cycles.len(),
        cycles.iter().map(Cycle::to_string).collect::<String>()
    );
}

#[test]
fn the_modules_of_src_keep_the_layering_rules() {
    let graph = real_graph();
    let broken = graph.violations(&RULES);
    assert!(
        broken.is_empty(),
        "{} import(s) break the layering rules (the table at the top of \
         tests/integration/architecture.rs):\n{}",
        broken.len(),
        broken.iter().map(|v| format!("{v}\n")).collect::<String>()
    );
}

/// The graph of src/, refusing one so empty that every check would pass on it.
fn real_graph() -> Graph {
    let graph = Graph::of(&crate_sources());
    assert!(
        graph.modules.len() > 10 && graph.edges.len() > 10,
        "the scan of src/ found {} modules and {} edges: the reader is broken",
        graph.modules.len(),
        graph.edges.len()
    );
    graph
}

/// Every `.rs` file under `src/` (but `src/bin/`, other crates), as (path from the crate, text).
fn crate_sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let rel = format!("{rel}/{name}");
            if path.is_dir() {
                if rel != "src/bin" {
                    walk(&path, &rel, out);
                }
            } else if name.ends_with(".rs") {
                out.push((rel, fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        "src",
        &mut out,
    );
    out
}

// ---------------------------------------------------------------------------------------------
// The checker.

struct Rules {
    imported_only_by: &'static [(&'static str, &'static [&'static str])],
    imports_only: &'static [(&'static str, &'static [&'static str])],
    never_imports: &'static [(&'static str, &'static [&'static str])],
    exceptions: &'static [(&'static str, &'static str)],
}

/// Where an edge was seen first.
#[derive(Debug, Clone, PartialEq)]
struct Location {
    file: String,
    line: usize,
}

/// Modules (`""` is the crate root) and the edges between unrelated ones.
struct Graph {
    modules: BTreeSet<String>,
    edges: BTreeMap<(String, String), Location>,
}

struct Cycle {
    members: Vec<String>,
    /// One chain `a -> b -> ... -> a` through the cycle, each edge with where it is.
    chain: Vec<(String, String, Location)>,
}

struct Violation {
    from: String,
    to: String,
    at: Location,
    rule: String,
}

impl std::fmt::Display for Cycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self
            .chain
            .iter()
            .map(|(from, _, _)| from.as_str())
            .collect();
        names.push(&self.chain[0].0);
        writeln!(f, "cycle among {{{}}}:", self.members.join(", "))?;
        writeln!(f, "  {}", names.join(" -> "))?;
        for (from, to, at) in &self.chain {
            writeln!(f, "    {from} -> {to}  at {}:{}", at.file, at.line)?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} -> {}  at {}:{}: {}",
            self.from, self.to, self.at.file, self.at.line, self.rule
        )
    }
}

/// `module` is `scope` or inside it; everything is inside the crate root `""`.
fn within(module: &str, scope: &str) -> bool {
    scope.is_empty()
        || module == scope
        || (module.starts_with(scope) && module[scope.len()..].starts_with("::"))
}

fn related(a: &str, b: &str) -> bool {
    within(a, b) || within(b, a)
}

fn join(path: &[String]) -> String {
    path.join("::")
}

fn split(module: &str) -> Vec<String> {
    if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").map(str::to_string).collect()
    }
}

/// The module a file under `src/` is, or `None` for a file of another crate (`src/bin/`).
fn module_of(file: &str) -> Option<String> {
    let rel = file.strip_prefix("src/")?.strip_suffix(".rs")?;
    if rel.starts_with("bin/") {
        return None;
    }
    let mut parts: Vec<&str> = rel.split('/').collect();
    if parts == ["lib"] || parts == ["main"] {
        return Some(String::new());
    }
    if parts.last() == Some(&"mod") {
        parts.pop();
    }
    Some(parts.join("::"))
}

impl Graph {
    /// Reads every file, as (path from the crate such as `src/a/b.rs`, text).
    fn of(files: &[(String, String)]) -> Graph {
        struct Parsed<'a> {
            file: &'a str,
            module: String,
            tokens: Vec<Token>,
        }
        let mut parsed = Vec::new();
        let mut test_only = BTreeSet::new();
        for (file, text) in files {
            let Some(module) = module_of(file) else {
                continue;
            };
            let stripped = strip_test_code(tokenize(text));
            if stripped.whole_file {
                test_only.insert(module.clone());
            }
            for name in stripped.test_modules {
                test_only.insert(join(&[split(&module), vec![name]].concat()));
            }
            parsed.push(Parsed {
                file,
                module,
                tokens: stripped.tokens,
            });
        }
        parsed.retain(|p| !test_only.iter().any(|t| within(&p.module, t)));
        let modules: BTreeSet<String> = parsed.iter().map(|p| p.module.clone()).collect();
        let mut edges = BTreeMap::new();
        for p in &parsed {
            for (target, line) in references(&p.module, &p.tokens, &modules) {
                if related(&p.module, &target) {
                    continue;
                }
                edges
                    .entry((p.module.clone(), target))
                    .or_insert_with(|| Location {
                        file: p.file.to_string(),
                        line,
                    });
            }
        }
        Graph { modules, edges }
    }

    fn successors(&self, module: &str) -> impl Iterator<Item = &str> {
        self.edges
            .range((module.to_string(), String::new())..)
            .take_while(move |((from, _), _)| from == module)
            .map(|((_, to), _)| to.as_str())
    }

    /// Strongly connected components of more than one module (Tarjan), each with one chain.
    fn cycles(&self) -> Vec<Cycle> {
        struct Tarjan<'g> {
            graph: &'g Graph,
            index: BTreeMap<&'g str, usize>,
            low: BTreeMap<&'g str, usize>,
            stack: Vec<&'g str>,
            on_stack: BTreeSet<&'g str>,
            components: Vec<Vec<&'g str>>,
        }
        impl<'g> Tarjan<'g> {
            fn visit(&mut self, v: &'g str) {
                let n = self.index.len();
                self.index.insert(v, n);
                self.low.insert(v, n);
                self.stack.push(v);
                self.on_stack.insert(v);
                for w in self.graph.successors(v) {
                    if !self.index.contains_key(w) {
                        self.visit(w);
                        let low = self.low[v].min(self.low[w]);
                        self.low.insert(v, low);
                    } else if self.on_stack.contains(w) {
                        let low = self.low[v].min(self.index[w]);
                        self.low.insert(v, low);
                    }
                }
                if self.low[v] == self.index[v] {
                    let mut component = Vec::new();
                    loop {
                        let w = self.stack.pop().expect("v is on the stack");
                        self.on_stack.remove(w);
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    self.components.push(component);
                }
            }
        }
        let mut tarjan = Tarjan {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            components: Vec::new(),
        };
        for module in &self.modules {
            if !tarjan.index.contains_key(module.as_str()) {
                tarjan.visit(module);
            }
        }
        let mut cycles: Vec<Cycle> = tarjan
            .components
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|component| {
                let members: BTreeSet<&str> = component.into_iter().collect();
                Cycle {
                    chain: self.shortest_cycle(&members),
                    members: members.into_iter().map(str::to_string).collect(),
                }
            })
            .collect();
        cycles.sort_by(|a, b| a.members.cmp(&b.members));
        cycles
    }

    /// The shortest cycle through the first module of a component, by breadth-first search.
    fn shortest_cycle(&self, members: &BTreeSet<&str>) -> Vec<(String, String, Location)> {
        let start = *members.first().expect("a component is never empty");
        let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([start]);
        let mut last = None;
        'search: while let Some(v) = queue.pop_front() {
            for w in self.successors(v).filter(|w| members.contains(w)) {
                if w == start {
                    last = Some(v);
                    break 'search;
                }
                if !parent.contains_key(w) {
                    parent.insert(w, v);
                    queue.push_back(w);
                }
            }
        }
        let mut path = vec![last.expect("every module of a component reaches the others")];
        while let Some(&p) = parent.get(path.last().unwrap()) {
            path.push(p);
        }
        if *path.last().unwrap() != start {
            path.push(start);
        }
        path.reverse();
        path.push(start);
        path.windows(2)
            .map(|pair| {
                let key = (pair[0].to_string(), pair[1].to_string());
                let at = self.edges[&key].clone();
                (key.0, key.1, at)
            })
            .collect()
    }

    fn violations(&self, rules: &Rules) -> Vec<Violation> {
        let list = |modules: &[&str]| {
            if modules.is_empty() {
                "the crate root".to_string()
            } else {
                modules
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let mut out = Vec::new();
        for ((from, to), at) in &self.edges {
            if rules
                .exceptions
                .iter()
                .any(|(f, t)| within(from, f) && within(to, t))
            {
                continue;
            }
            let mut broken = |rule: String| {
                out.push(Violation {
                    from: from.clone(),
                    to: to.clone(),
                    at: at.clone(),
                    rule,
                })
            };
            for (target, importers) in rules.imported_only_by {
                if within(to, target)
                    && !within(from, target)
                    && !importers.iter().any(|m| within(from, m))
                {
                    broken(format!(
                        "`{target}` may be imported only by {}",
                        list(importers)
                    ));
                }
            }
            for (module, allowed) in rules.imports_only {
                if within(from, module) && !allowed.iter().any(|m| within(to, m)) {
                    broken(format!("`{module}` may import only {}", list(allowed)));
                }
            }
            for (module, forbidden) in rules.never_imports {
                for f in forbidden
                    .iter()
                    .filter(|f| within(from, module) && within(to, f))
                {
                    broken(format!("`{module}` may not import `{f}`"));
                }
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Reading Rust: tokens without comments and literals, test code removed, paths resolved.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
    /// A number; strings and characters are dropped entirely.
    Number,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident(t: Option<&Token>, word: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Ident(w), .. }) if w == word)
}

fn is_punct(t: Option<&Token>, c: char) -> bool {
    matches!(t, Some(Token { tok: Tok::Punct(p), .. }) if *p == c)
}

fn is_path_sep(t: Option<&Token>) -> bool {
    matches!(
        t,
        Some(Token {
            tok: Tok::PathSep,
            ..
        })
    )
}

fn ident_of(t: Option<&Token>) -> Option<&str> {
    match t {
        Some(Token {
            tok: Tok::Ident(w), ..
        }) => Some(w),
        _ => None,
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    let c: Vec<char> = text.chars().collect();
    let at = |i: usize| c.get(i).copied();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Skips a "..." body starting after the quote; returns the index after the closing quote.
    let skip_string = |mut j: usize, line: &mut usize| {
        while j < c.len() {
            match c[j] {
                '\\' => {
                    if at(j + 1) == Some('\n') {
                        *line += 1;
                    }
                    j += 2;
                }
                '"' => return j + 1,
                '\n' => {
                    *line += 1;
                    j += 1;
                }
                _ => j += 1,
            }
        }
        c.len()
    };
    let skip_raw = |mut j: usize, hashes: usize, line: &mut usize| {
        while j < c.len() {
            if c[j] == '"' && (1..=hashes).all(|k| at(j + k) == Some('#')) {
                return j + 1 + hashes;
            }
            if c[j] == '\n' {
                *line += 1;
            }
            j += 1;
        }
        c.len()
    };
    // At a quote: the index after a character literal, or None for a lifetime or label.
    let skip_char = |q: usize| {
        if at(q + 1) == Some('\\') {
            let mut j = q + 3;
            while j < c.len() && c[j] != '\'' && c[j] != '\n' {
                j += 1;
            }
            Some(j + 1)
        } else if at(q + 2) == Some('\'') {
            Some(q + 3)
        } else {
            None
        }
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == Some('*') {
            let mut depth = 1;
            i += 2;
            while i < c.len() && depth > 0 {
                if c[i] == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_string(i + 1, &mut line);
        } else if ch == '\'' {
            match skip_char(i) {
                Some(end) => i = end,
                None => {
                    out.push(Token {
                        tok: Tok::Punct('\''),
                        line,
                    });
                    i += 1;
                }
            }
        } else if ch == ':' && at(i + 1) == Some(':') {
            out.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else if ch.is_alphabetic() || ch == '_' {
            // Literals with a prefix: b"", c"", r"", r#""#, br"", cr"", b''.
            let mut j = i;
            if ch == 'b' || ch == 'c' {
                j += 1;
            }
            if at(j) == Some('r') {
                let mut k = j + 1;
                while at(k) == Some('#') {
                    k += 1;
                }
                if at(k) == Some('"') {
                    i = skip_raw(k + 1, k - j - 1, &mut line);
                    continue;
                }
            } else if j > i && at(j) == Some('"') {
                i = skip_string(j + 1, &mut line);
                continue;
            } else if ch == 'b'
                && at(j) == Some('\'')
                && let Some(end) = skip_char(j)
            {
                i = end;
                continue;
            }
            // An identifier, or a raw identifier r#name.
            if ch == 'r'
                && at(i + 1) == Some('#')
                && at(i + 2).is_some_and(|x| x.is_alphabetic() || x == '_')
            {
                i += 2;
            }
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(c[start..i].iter().collect()),
                line,
            });
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Number,
                line,
            });
        } else {
            out.push(Token {
                tok: Tok::Punct(ch),
                line,
            });
            i += 1;
        }
    }
    out
}

struct Stripped {
    tokens: Vec<Token>,
    /// Child modules declared `#[cfg(test)] mod name;`: their files are test code too.
    test_modules: Vec<String>,
    /// The file opens with `#![cfg(test)]`.
    whole_file: bool,
}

/// The length of `#[cfg(test)]` (or `#![cfg(test)]`) at `i`, if it is there.
fn cfg_test_at(t: &[Token], i: usize) -> Option<usize> {
    let inner = usize::from(is_punct(t.get(i + 1), '!'));
    let j = i + 1 + inner;
    (is_punct(t.get(i), '#')
        && is_punct(t.get(j), '[')
        && is_ident(t.get(j + 1), "cfg")
        && is_punct(t.get(j + 2), '(')
        && is_ident(t.get(j + 3), "test")
        && is_punct(t.get(j + 4), ')')
        && is_punct(t.get(j + 5), ']'))
    .then_some(7 + inner)
}

/// Removes every item marked `#[cfg(test)]`: a module, function, `use`, field or match arm.
fn strip_test_code(tokens: Vec<Token>) -> Stripped {
    let mut out = Stripped {
        tokens: Vec::new(),
        test_modules: Vec::new(),
        whole_file: false,
    };
    let mut i = 0;
    while i < tokens.len() {
        let Some(len) = cfg_test_at(&tokens, i) else {
            out.tokens.push(tokens[i].clone());
            i += 1;
            continue;
        };
        if is_punct(tokens.get(i + 1), '!') {
            out.whole_file = true;
            out.tokens.clear();
            break;
        }
        let mut j = i + len;
        // Further attributes of the same item.
        while is_punct(tokens.get(j), '#') && is_punct(tokens.get(j + 1), '[') {
            let mut depth = 0;
            j += 1;
            while j < tokens.len() {
                match tokens[j].tok {
                    Tok::Punct('[') => depth += 1,
                    Tok::Punct(']') => depth -= 1,
                    _ => {}
                }
                j += 1;
                if depth == 0 {
                    break;
                }
            }
        }
        // `[pub[(..)]] mod name;`: the child's file is test code.
        let mut k = j;
        if is_ident(tokens.get(k), "pub") {
            k += 1;
            if is_punct(tokens.get(k), '(') {
                while k < tokens.len() && !is_punct(tokens.get(k), ')') {
                    k += 1;
                }
                k += 1;
            }
        }
        if is_ident(tokens.get(k), "mod")
            && is_punct(tokens.get(k + 2), ';')
            && let Some(name) = ident_of(tokens.get(k + 1))
        {
            out.test_modules.push(name.to_string());
        }
        // The item ends at `;` or `,` outside brackets, after its first `{ ... }`, or before a
        // closing bracket that is not its own (a field that ends a struct).
        let mut depth = 0usize;
        while j < tokens.len() {
            match tokens[j].tok {
                Tok::Punct('(' | '[' | '{') => depth += 1,
                Tok::Punct(')' | ']' | '}') if depth == 0 => break,
                Tok::Punct(close @ (')' | ']' | '}')) => {
                    depth -= 1;
                    if depth == 0 && close == '}' {
                        j += 1;
                        break;
                    }
                }
                Tok::Punct(';' | ',') if depth == 0 => {
                    j += 1;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        i = j;
    }
    out
}

/// One leaf of a `use` tree: its segments, the name it is known by, the line of its last segment.
struct UseLeaf {
    segments: Vec<String>,
    name: Option<String>,
    line: usize,
}

/// Parses a `use` tree at `i` (after `use`), appending its leaves; returns the index after it.
fn parse_use_tree(t: &[Token], mut i: usize, prefix: &[String], out: &mut Vec<UseLeaf>) -> usize {
    let mut segments = prefix.to_vec();
    let mut line = t.get(i).map_or(0, |t| t.line);
    loop {
        match t.get(i).map(|t| &t.tok) {
            Some(Tok::PathSep) => i += 1,
            Some(Tok::Ident(word)) => {
                line = t[i].line;
                // `{self, ..}` names the prefix itself.
                if word != "self" || segments.is_empty() {
                    segments.push(word.clone());
                }
                i += 1;
                if is_path_sep(t.get(i)) {
                    i += 1;
                    continue;
                }
                let mut name = segments.last().cloned();
                if is_ident(t.get(i), "as") {
                    name = ident_of(t.get(i + 1)).map(str::to_string);
                    i += 2;
                }
                out.push(UseLeaf {
                    segments,
                    name,
                    line,
                });
                return i;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                while i < t.len() && !is_punct(t.get(i), '}') {
                    let next = parse_use_tree(t, i, &segments, out);
                    i = if next > i { next } else { i + 1 };
                    if is_punct(t.get(i), ',') {
                        i += 1;
                    }
                }
                return i + 1;
            }
            Some(Tok::Punct('*')) => {
                out.push(UseLeaf {
                    segments,
                    name: None,
                    line,
                });
                return i + 1;
            }
            _ => return i,
        }
    }
}

/// The module a path names, and whether the path is that module exactly: `crate::`, `super::`
/// and `self::` paths, names brought in by `use` (`aliases`), and children of the module.
fn resolve(
    module: &[String],
    segments: &[String],
    modules: &BTreeSet<String>,
    aliases: &BTreeMap<String, Vec<String>>,
) -> Option<(String, bool)> {
    let first = segments.first()?;
    let (mut base, mut rest): (Vec<String>, &[String]) = match first.as_str() {
        "crate" => (Vec::new(), &segments[1..]),
        "self" => (module.to_vec(), &segments[1..]),
        "super" => (module.to_vec(), segments),
        name if aliases.contains_key(name) => (aliases[name].clone(), &segments[1..]),
        name => {
            let child = [module, &[name.to_string()]].concat();
            if !modules.contains(&join(&child)) {
                return None;
            }
            (child, &segments[1..])
        }
    };
    while rest.first().is_some_and(|s| s == "super") {
        base.pop()?;
        rest = &rest[1..];
    }
    let mut taken = 0;
    while taken < rest.len() && modules.contains(&join(&[&base[..], &rest[..=taken]].concat())) {
        taken += 1;
    }
    base.extend_from_slice(&rest[..taken]);
    Some((join(&base), taken == rest.len()))
}

/// Every module a file's code names, with the line where it does.
fn references(module: &str, t: &[Token], modules: &BTreeSet<String>) -> Vec<(String, usize)> {
    let here = split(module);
    // The `use` statements first: they make names (`use crate::pipeline::{self, read}`) that
    // later paths start from (`read::sniff`).
    let mut leaves = Vec::new();
    let mut uses = BTreeMap::new();
    let mut i = 0;
    while i < t.len() {
        if is_ident(t.get(i), "use") {
            let start = leaves.len();
            let mut end = parse_use_tree(t, i + 1, &[], &mut leaves);
            while end < t.len() && !is_punct(t.get(end), ';') {
                end += 1;
            }
            uses.insert(i, (start..leaves.len(), end));
            i = end;
        }
        i += 1;
    }
    let mut aliases = BTreeMap::new();
    // Twice, for a name brought in through another (`use crate::pipeline; use pipeline::read;`).
    for _ in 0..2 {
        for leaf in &leaves {
            let Some(name) = &leaf.name else { continue };
            if matches!(name.as_str(), "_" | "crate" | "super" | "self") {
                continue;
            }
            if let Some((target, true)) = resolve(&here, &leaf.segments, modules, &aliases) {
                aliases.insert(name.clone(), split(&target));
            }
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if let Some((range, end)) = uses.get(&i) {
            for leaf in &leaves[range.clone()] {
                if let Some((target, _)) = resolve(&here, &leaf.segments, modules, &aliases) {
                    out.push((target, leaf.line));
                }
            }
            i = end + 1;
            continue;
        }
        let starts_path = match ident_of(t.get(i)) {
            Some("crate" | "super" | "self") => true,
            Some(name) => aliases.contains_key(name),
            None => false,
        } && is_path_sep(t.get(i + 1))
            && !(i > 0 && (is_path_sep(t.get(i - 1)) || is_punct(t.get(i - 1), '$')))
            && !(i > 0 && is_punct(t.get(i - 1), '.'));
        if !starts_path {
            i += 1;
            continue;
        }
        let mut segments = vec![ident_of(t.get(i)).unwrap().to_string()];
        let mut j = i + 1;
        while is_path_sep(t.get(j)) {
            match ident_of(t.get(j + 1)) {
                Some(word) => segments.push(word.to_string()),
                None => break,
            }
            j += 2;
        }
        if let Some((target, _)) = resolve(&here, &segments, modules, &aliases) {
            out.push((target, t[i].line));
        }
        i = j;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tests of the checker itself, on small trees.

fn tree(files: &[(&str, &str)]) -> Graph {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(path, text)| (path.to_string(), text.to_string()))
        .collect();
    Graph::of(&files)
}

/// The edges as `from -> to @ file:line`, in order.
fn edges(graph: &Graph) -> Vec<String> {
    graph
        .edges
        .iter()
        .map(|((from, to), at)| format!("{from} -> {to} @ {}:{}", at.file, at.line))
        .collect()
}

const LIB: &str = "pub mod a;\npub mod b;\npub mod c;\npub mod d;\n";

#[test]
fn files_map_to_module_paths() {
    let cases = [
        ("src/lib.rs", Some("")),
        ("src/main.rs", Some("")),
        ("src/a.rs", Some("a")),
        ("src/a/mod.rs", Some("a")),
        ("src/a/b.rs", Some("a::b")),
        ("src/a/b/mod.rs", Some("a::b")),
        ("src/bin/tool.rs", None),
    ];
    for (file, module) in cases {
        assert_eq!(module_of(file).as_deref(), module, "{file}");
    }
}

#[test]
fn a_three_module_cycle_is_reported_with_its_chain_and_lines() {
    let graph = tree(&[
        ("src/lib.rs", LIB),
        ("src/a.rs", "//! a\n\nuse crate::b::Thing;\n"),
        ("src/b.rs", "pub fn f() {\n    crate::c::g();\n}\n"),
        ("src/c.rs", "use super::a;\n"),
        // d uses a but nothing comes back: not part of the cycle.
        ("src/d.rs", "use crate::a::X;\n"),
    ]);
    let cycles = graph.cycles();
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0].members, ["a", "b", "c"]);
    assert_eq!(
        cycles[0].to_string(),
        "cycle among {a, b, c}:\n  a -> b -> c -> a\n    a -> b  at src/a.rs:3\n    \
         b -> c  at src/b.rs:2\n    c -> a  at src/c.rs:1\n"
    );
}

#[test]
fn a_cycle_chain_is_the_shortest_one_through_its_first_module() {
    // a -> b -> c -> d -> a and a shortcut c -> a: the chain shown is a -> b -> c -> a.
    let graph = tree(&[
        ("src/lib.rs", LIB),
        ("src/a.rs", "use crate::b::X;\n"),
        ("src/b.rs", "use crate::c::X;\n"),
        ("src/c.rs", "use crate::d::X;\nuse crate::a::Y;\n"),
        ("src/d.rs", "use crate::a::X;\n"),
    ]);
    let cycles = graph.cycles();
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0].members, ["a", "b", "c", "d"]);
    let chain: Vec<_> = cycles[0]
        .chain
        .iter()
        .map(|(f, t, _)| format!("{f}>{t}"))
        .collect();
    assert_eq!(chain, ["a>b", "b>c", "c>a"]);
}

#[test]
fn two_separate_cycles_are_two_reports() {
    let graph = tree(&[
        ("src/lib.rs", LIB),
        ("src/a.rs", "use crate::b::X;\n"),
        ("src/b.rs", "use crate::a::X;\n"),
        ("src/c.rs", "use crate::d::X;\n"),
        ("src/d.rs", "fn f() { crate::c::g() }\n"),
    ]);
    let members: Vec<_> = graph.cycles().into_iter().map(|c| c.members).collect();
    assert_eq!(members, [["a", "b"], ["c", "d"]]);
}

#[test]
fn a_grouped_use_makes_one_edge_per_module_named() {
    let graph = tree(&[
        ("src/lib.rs", LIB),
        (
            "src/a.rs",
            "use crate::{\n    b::{Thing, c::{self, Other}},\n    d,\n    std_like::X,\n};\n",
        ),
        ("src/b/mod.rs", "pub mod c;\n"),
        ("src/b/c.rs", ""),
        ("src/d.rs", ""),
    ]);
    assert_eq!(
        edges(&graph),
        [
            "a -> b @ src/a.rs:2",
            "a -> b::c @ src/a.rs:2",
            "a -> d @ src/a.rs:3"
        ]
    );
}

#[test]
fn super_and_self_paths_resolve_from_the_module_not_the_file() {
    let graph = tree(&[
        ("src/lib.rs", LIB),
        // In b/mod.rs (module `b`), `super` is the crate root.
        ("src/b/mod.rs", "pub mod c;\npub mod e;\nuse super::a::X;\n"),
        // In b/c.rs (module `b::c`), `super::e` is the sibling `b::e`.
        (
            "src/b/c.rs",
            "use super::e::Y;\nuse super::super::d::Z;\nfn f() { self::inner(); }\n",
        ),
        ("src/b/e.rs", ""),
        ("src/a.rs", ""),
        ("src/d.rs", ""),
    ]);
    assert_eq!(
        edges(&graph),
        [
            "b -> a @ src/b/mod.rs:3",
            "b::c -> b::e @ src/b/c.rs:1",
            "b::c -> d @ src/b/c.rs:2"
        ]
    );
}

#[test]
fn a_module_imported_by_name_resolves_the_paths_that_start_from_it() {
    let graph = tree(&[
        ("src/lib.rs", LIB),
        ("src/b/mod.rs", "pub mod c;\n"),
        ("src/b/c.rs", ""),
        ("src/d.rs", ""),
        // `b` is imported (as `{self}`), then `b::c::f()` names the deeper module; `d` is renamed.
        (
            "src/a.rs",
            "use crate::{b::{self, Thing}, d as dee};\n\nfn f() {\n    b::c::f();\n    dee::g();\n}\n",
        ),
    ]);
    assert_eq!(
        edges(&graph),
        [
            "a -> b @ src/a.rs:1",
            "a -> b::c @ src/a.rs:4",
            "a -> d @ src/a.rs:1"
        ]
    );
}

#[test]
fn edges_between_a_module_and_its_ancestors_or_descendants_are_ignored() {
    let graph = tree(&[
        ("src/lib.rs", "pub mod a;\npub use a::b::Thing;\n"),
        (
            "src/a/mod.rs",
            "pub mod b;\npub use self::b::Thing;\nuse crate::a::b::c::X;\n",
        ),
        (
            "src/a/b/mod.rs",
            "pub mod c;\nuse super::Y;\nuse crate::a::Z;\n",
        ),
        ("src/a/b/c.rs", "use crate::a::Y;\nuse super::super::Z;\n"),
    ]);
    assert_eq!(edges(&graph), Vec::<String>::new());
    assert!(graph.cycles().is_empty());
    // Siblings under one parent do count.
    let graph = tree(&[
        ("src/lib.rs", "pub mod a;\n"),
        ("src/a/mod.rs", "pub mod b;\npub mod c;\n"),
        ("src/a/b.rs", "use super::c::X;\n"),
        ("src/a/c.rs", "use super::b::Y;\n"),
    ]);
    assert_eq!(
        edges(&graph),
        ["a::b -> a::c @ src/a/b.rs:1", "a::c -> a::b @ src/a/c.rs:1"]
    );
    assert_eq!(graph.cycles()[0].members, ["a::b", "a::c"]);
}

#[test]
fn paths_in_strings_and_comments_are_not_edges() {
    let text = r####"//! Docs that mention [`crate::b::Thing`].
// use crate::b::X;
/* a block comment: crate::b::X /* nested crate::b::Y */ still crate::b::Z */
/// Doc comment: `crate::b::f`
fn f() -> &'static str {
    let _c = '"';
    let _q = '\'';
    let _s = "crate::b::X and \" crate::b::Y";
    let _r = r#"crate::b::X "quoted" "#;
    let _b = b"crate::b::X";
    let _br = br##"crate::b::X"#"##;
    let _d = 'x';
    "use crate::b::Z;"
}
fn g<'a>(x: &'a str) -> &'a str { crate::d::real(x) }
"####;
    let graph = tree(&[
        ("src/lib.rs", LIB),
        ("src/a.rs", text),
        ("src/b.rs", ""),
        ("src/d.rs", ""),
    ]);
    // Only the real call on line 15 counts, and its line is right after the multi-line texts.
    assert_eq!(edges(&graph), ["a -> d @ src/a.rs:15"]);
}

#[test]
fn test_code_may_import_anything() {
    let a = "pub fn f() {}\n\
             #[cfg(test)]\n\
             mod tests {\n    use crate::b::X;\n    fn t() { crate::c::y(); }\n}\n\
             #[cfg(test)]\n#[allow(dead_code)]\nfn helper() { crate::c::z() }\n\
             #[cfg(test)]\nuse crate::c::W;\n\
             #[cfg(test)]\nmod more;\n\
             pub struct S {\n    #[cfg(test)]\n    pub probe: crate::c::P,\n}\n\
             use crate::d::Real;\n";
    let graph = tree(&[
        (
            "src/lib.rs",
            "pub mod a;\npub mod b;\npub mod c;\npub mod d;\npub mod e;\n",
        ),
        ("src/a/mod.rs", a),
        // Declared `#[cfg(test)] mod more;`: the whole file is test code.
        ("src/a/more.rs", "use crate::b::Y;\n"),
        ("src/b.rs", "use crate::a::f;\n"),
        ("src/c.rs", ""),
        ("src/d.rs", ""),
        // A file that says it is test code.
        ("src/e.rs", "#![cfg(test)]\nuse crate::a::f;\n"),
    ]);
    assert_eq!(
        edges(&graph),
        ["a -> d @ src/a/mod.rs:18", "b -> a @ src/b.rs:1"]
    );
    assert!(!graph.modules.contains("a::more"));
    assert!(!graph.modules.contains("e"));
}

#[test]
fn macro_crate_paths_and_visibility_are_not_edges() {
    let graph = tree(&[
        ("src/lib.rs", LIB),
        (
            "src/a.rs",
            "macro_rules! m { () => { $crate::b::f() }; }\n\
             pub(crate) fn f() {}\npub(in crate::a) fn g() {}\n",
        ),
        ("src/b.rs", ""),
    ]);
    assert_eq!(edges(&graph), Vec::<String>::new());
}

fn layered() -> Graph {
    tree(&[
        (
            "src/lib.rs",
            "pub mod app;\npub mod cli;\npub mod daemon;\npub mod config;\npub mod pipeline;\n\
             pub mod state;\npub mod mail;\npub mod text;\npub mod helper;\n",
        ),
        (
            "src/app.rs",
            "use crate::pipeline::X;\nuse crate::state::Y;\n",
        ),
        (
            "src/cli.rs",
            "use crate::app::Run;\nuse crate::daemon::control::Client;\n",
        ),
        (
            "src/daemon/mod.rs",
            "pub mod control;\nuse crate::app::Run;\n",
        ),
        ("src/daemon/control.rs", "use crate::app::Command;\n"),
        (
            "src/config.rs",
            "use crate::text::fold;\nuse crate::pipeline::read::Limits;\n",
        ),
        (
            "src/pipeline/mod.rs",
            "pub mod read;\nuse crate::config::Form;\n",
        ),
        (
            "src/pipeline/read.rs",
            "use crate::state::Store;\nuse crate::app::App;\n",
        ),
        ("src/state.rs", "use crate::config::Settings;\n"),
        ("src/mail.rs", "use crate::cli::say;\n"),
        ("src/text.rs", ""),
        ("src/helper.rs", "use crate::app::Answer;\n"),
    ])
}

#[test]
fn each_layering_rule_reports_the_import_that_breaks_it() {
    // (Without the project's exceptions, so every rule is exercised.)
    const NO_EXCEPTION: Rules = Rules {
        exceptions: &[],
        ..RULES
    };
    let broken: Vec<String> = layered()
        .violations(&NO_EXCEPTION)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        broken,
        [
            "cli -> daemon::control  at src/cli.rs:2: `daemon` may be imported only by the crate root",
            "config -> pipeline::read  at src/config.rs:2: `config` may import only `text`, \
             `period`, `finding`, `numbers`, `template`, `clock`, `wording`",
            "helper -> app  at src/helper.rs:1: `app` may be imported only by `cli`, `daemon`, `console`",
            "mail -> cli  at src/mail.rs:1: `cli` may be imported only by the crate root",
            "mail -> cli  at src/mail.rs:1: `mail` may not import `cli`",
            "pipeline::read -> app  at src/pipeline/read.rs:2: `app` may be imported only by \
             `cli`, `daemon`, `console`",
            "pipeline::read -> app  at src/pipeline/read.rs:2: `pipeline` may not import `app`",
            "pipeline::read -> state  at src/pipeline/read.rs:1: `pipeline` may not import `state`",
        ]
    );
}

#[test]
fn an_exception_in_the_table_allows_one_edge() {
    const WITH_EXCEPTION: Rules = Rules {
        exceptions: &[("cli", "daemon::control"), ("config", "pipeline::read")],
        ..RULES
    };
    let broken: Vec<String> = layered()
        .violations(&WITH_EXCEPTION)
        .iter()
        .map(|v| format!("{} -> {}", v.from, v.to))
        .collect();
    assert_eq!(
        broken,
        [
            "helper -> app",
            "mail -> cli",
            "mail -> cli",
            "pipeline::read -> app",
            "pipeline::read -> app",
            "pipeline::read -> state"
        ]
    );
}

#[test]
fn rules_about_modules_that_do_not_exist_are_satisfied() {
    // Today's kind of tree: no app, state or mail yet; pipeline uses store and outbox freely.
    let graph = tree(&[
        (
            "src/lib.rs",
            "pub mod cli;\npub mod pipeline;\npub mod store;\npub mod outbox;\n",
        ),
        ("src/cli.rs", "use crate::pipeline::run;\n"),
        (
            "src/pipeline.rs",
            "use crate::store::Store;\nuse crate::outbox::Spool;\n",
        ),
        ("src/store.rs", ""),
        ("src/outbox.rs", ""),
    ]);
    assert_eq!(edges(&graph).len(), 3);
    assert_eq!(
        graph
            .violations(&RULES)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        Vec::<String>::new()
    );
}
