//! The shape ARCHITECTURE.md promises: within each folder of `src/`, modules use each other one
//! way (no two siblings, directly or through others, depend on each other), and every module is
//! named in the code map.

use crate::support::root;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The code of a module outside its tests, without comments (doc links are not dependencies).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Sibling modules `name` uses: `super::x`, `crate::<folder>::x`, or `x::` after a `use super::{…}`.
fn uses(folder: &str, code: &str, siblings: &BTreeSet<String>) -> BTreeSet<String> {
    let prefix =
        if folder.is_empty() { "crate::".to_string() } else { format!("crate::{}::", folder.replace('/', "::")) };
    let mut found = BTreeSet::new();
    for sibling in siblings {
        let direct = [format!("super::{sibling}::"), format!("super::{sibling};"), format!("super::{{{sibling}")];
        let spelled = [format!("{prefix}{sibling}::"), format!("{prefix}{sibling};"), format!("{prefix}{{{sibling}")];
        let grouped = code.contains("use super::{") && code.contains(&format!("{sibling}::"))
            || code.contains(&format!("{prefix}{{")) && code.contains(&format!(" {sibling}::"));
        if direct.iter().chain(&spelled).any(|p| code.contains(p.as_str())) || grouped {
            found.insert(sibling.clone());
        }
    }
    found
}

fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| n == node) {
            let mut found = path[i..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn sibling_modules_use_each_other_one_way() {
    let src = root().join("src");
    let mut checked = 0;
    for folder in ["input", "token", "token/keys", "judge", "report", "run", "serve", "redeem"] {
        let dir = src.join(folder);
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs") && p.file_stem().unwrap() != "mod")
            .collect();
        let siblings: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter_map(|p| {
                let name = p.file_stem()?.to_str()?.to_string();
                (name != "mod" && (p.is_dir() || p.extension().is_some_and(|e| e == "rs"))).then_some(name)
            })
            .collect();
        let mut graph = BTreeMap::new();
        for file in &files {
            let name = file.file_stem().unwrap().to_str().unwrap().to_string();
            let mut others = siblings.clone();
            others.remove(&name);
            graph.insert(name, uses(folder, &code(file), &others));
        }
        assert!(
            cycle(&graph).is_none(),
            "src/{folder}: modules use each other: {:?}\n{graph:#?}",
            cycle(&graph).unwrap()
        );
        checked += files.len();
    }
    assert!(checked > 40, "only {checked} modules were looked at");
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    // The check above can fail: a planted two-module and three-module cycle are found.
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    assert!(cycle(&graph(&[("verdict", "acceptance"), ("acceptance", "verdict")])).is_some());
    assert!(cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])).is_some());
    assert!(cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])).is_none());
    let siblings: BTreeSet<String> = ["verdict".to_string()].into();
    assert_eq!(uses("judge", "use crate::judge::verdict::{Mfa, Policy};", &siblings), siblings);
    assert_eq!(uses("judge", "use super::verdict::Mfa;", &siblings), siblings);
    assert!(uses("judge", "see [`crate::judge::verdict`]", &BTreeSet::new()).is_empty());
}

#[test]
fn every_module_is_in_the_code_map() {
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    let mut stack = vec![root().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let name = path.file_name().unwrap().to_str().unwrap();
                if !map.contains(&format!("`{name}`"))
                    && !map.contains(&format!("{name}`"))
                    && !map.contains(&format!("/{name}"))
                {
                    missing.push(path.strip_prefix(root()).unwrap().display().to_string());
                }
            }
        }
    }
    assert!(missing.is_empty(), "not in ARCHITECTURE.md's code map: {missing:?}");
}
