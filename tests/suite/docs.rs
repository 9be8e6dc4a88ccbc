//! The user documents can't rot: docs/reference.md's finding and error code tables list exactly
//! the codes the source can emit (with their levels), and every runnable example in README.md,
//! docs/guide.md and docs/reference.md runs, as copied, against the built binary.
//!
//! Runnable blocks (CONTRIBUTING.md, "Documentation examples"):
//! - ```` ```console ````: `$ COMMAND` lines (continued by a trailing `\`), each followed by its
//!   expected output (stdout then stderr); `...` alone on a line stands for any lines, `[..]`
//!   for any text within a line; no output lines means the output is not compared.
//! - ```` ```sh ````: each command (a line, with its `\`, `|` and `&&` continuations) in turn.
//! - ```` ```yaml ````: each `run:` step of a workflow, except `cargo install` (the binary under
//!   test stands in for it).
//!
//! A command's exit status must be 0, or N when it ends with the comment `# exit N` (`# exit
//! status N` and `# exit N: why` too). Commands run in bash, in a fresh directory holding a copy
//! of fixtures/, with a fresh empty HOME, the built mfacheck first on PATH, and a stand-in `az`
//! that answers only `az account get-access-token --resource https://api.partnercenter.microsoft.com`.
//! Blocks of any other language (`text`) are shown, not run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ---- The code tables ----------------------------------------------------------------------------

/// Every finding code, with the levels it is emitted at: the typed vocabulary's own list (a
/// code whose level depends on the options, `expired` and `not-yet-valid`, is an error or a
/// warning).
fn finding_codes_in_source() -> BTreeMap<String, BTreeSet<String>> {
    mfacheck::Code::ALL
        .iter()
        .map(|code| {
            let levels = match code.level() {
                Some(level) => BTreeSet::from([level.as_str().to_owned()]),
                None => BTreeSet::from(["error".to_owned(), "warning".to_owned()]),
            };
            (code.as_str().to_owned(), levels)
        })
        .collect()
}

/// Every input error code: the typed vocabulary's own list.
fn error_codes_in_source() -> BTreeSet<String> {
    mfacheck::ErrorCode::ALL.iter().map(|code| code.as_str().to_owned()).collect()
}

/// The first column (a `code`) and second column of each row of the table under `heading`.
fn table_under(doc: &str, heading: &str) -> BTreeMap<String, String> {
    let start = doc.find(&format!("\n{heading}\n")).unwrap_or_else(|| panic!("docs/reference.md has no {heading:?}"));
    let section = &doc[start + heading.len() + 2..];
    let section = &section[..section.find("\n#").unwrap_or(section.len())];
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let code = cells[0].trim_matches('`').to_owned();
        assert!(rows.insert(code.clone(), cells.get(1).unwrap_or(&"").to_string()).is_none(), "{code} listed twice");
    }
    rows
}

#[test]
fn reference_lists_every_finding_code_and_only_those() {
    let source = finding_codes_in_source();
    let table = table_under(&read("docs/reference.md"), "## Finding codes");
    let in_source: BTreeSet<&String> = source.keys().collect();
    let in_table: BTreeSet<&String> = table.keys().collect();
    let missing: Vec<_> = in_source.difference(&in_table).collect();
    let extra: Vec<_> = in_table.difference(&in_source).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/reference.md's finding codes differ from the source: missing {missing:?}, not in the source {extra:?}"
    );
    for (code, levels) in &source {
        for level in levels {
            assert!(
                table[code].contains(level.as_str()),
                "{code}: the table's level {:?} does not name {level}",
                table[code]
            );
        }
    }
}

#[test]
fn reference_lists_every_error_code_and_only_those() {
    let source = error_codes_in_source();
    let table: BTreeSet<String> = table_under(&read("docs/reference.md"), "## Error codes").into_keys().collect();
    assert!(
        source == table,
        "docs/reference.md's error codes differ from the source: missing {:?}, not in the source {:?}",
        source.difference(&table).collect::<Vec<_>>(),
        table.difference(&source).collect::<Vec<_>>()
    );
}

/// The extractors above must find what they look for, or the table tests would compare nothing.
#[test]
fn code_extractors_find_known_codes() {
    let findings = finding_codes_in_source();
    assert_eq!(findings["password-only"], BTreeSet::from(["hint".to_owned()]));
    assert_eq!(findings["expired"], BTreeSet::from(["error".to_owned(), "warning".to_owned()]));
    assert!(findings.len() >= 20, "{findings:?}");
    let errors = error_codes_in_source();
    assert!(errors.contains("not-a-jwt") && errors.contains("binary") && errors.len() >= 15, "{errors:?}");
}

/// User documents speak of the product, not of the project's issues or the spec's sections.
#[test]
fn user_documents_cite_no_issue_or_spec_section() {
    for path in ["README.md", "docs/guide.md", "docs/reference.md", "SECURITY.md"] {
        for (n, line) in read(path).lines().enumerate() {
            let lower = line.to_ascii_lowercase();
            let issue = lower
                .match_indices("issue ")
                .any(|(i, m)| lower[i + m.len()..].starts_with(|c: char| c.is_ascii_digit()));
            assert!(!issue && !line.contains("SPEC") && !line.contains('§'), "{path}:{}: {line}", n + 1);
        }
    }
    let lines = read("README.md").lines().count();
    assert!(lines <= 250, "README.md has {lines} lines: keep it short, put the rest in docs/");
}

// ---- The examples -------------------------------------------------------------------------------

/// One command of an example and what it must do.
#[derive(Debug)]
struct Example {
    place: String,
    command: String,
    status: i32,
    /// Expected output lines; `None`: not compared.
    output: Option<Vec<String>>,
}

/// `# exit N` at the end of a command: its expected status, and the command without the comment.
fn expected_status(command: &str) -> (String, i32) {
    if let Some(at) = command.rfind("# exit") {
        let tail = command[at + 6..].trim_start();
        let tail = tail.strip_prefix("status").unwrap_or(tail).trim_start();
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(status) = digits.parse() {
            return (command[..at].trim_end().to_owned(), status);
        }
    }
    (command.to_owned(), 0)
}

/// Logical commands of shell text: continuation lines joined, comment-only lines dropped.
fn shell_commands(lines: &[&str]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if current.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        let (at, mut text) = current.take().unwrap_or((i, String::new()));
        text.push_str(line);
        text.push('\n');
        let code = expected_status(trimmed).0;
        if code.ends_with('\\') || code.ends_with('|') || code.ends_with("&&") {
            current = Some((at, text));
        } else {
            out.push((at, text.trim_end().to_owned()));
        }
    }
    out.extend(current);
    out
}

/// The `run:` steps of a GitHub Actions workflow, as (line, script).
fn workflow_steps(lines: &[&str]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let Some(at) = line.find("run:") else {
            i += 1;
            continue;
        };
        let value = line[at + 4..].trim();
        if value == "|" {
            let indent = lines.get(i + 1).map_or(0, |l| l.len() - l.trim_start().len());
            let mut body = Vec::new();
            i += 1;
            while i < lines.len()
                && (lines[i].trim().is_empty() || lines[i].len() - lines[i].trim_start().len() >= indent)
            {
                body.push(lines[i].get(indent..).unwrap_or(""));
                i += 1;
            }
            out.extend(shell_commands(&body).into_iter().map(|(n, c)| (at + n, c)));
        } else {
            out.push((i, value.to_owned()));
            i += 1;
        }
    }
    out.retain(|(_, command)| !command.contains("cargo install"));
    out
}

fn examples(path: &str) -> Vec<Example> {
    let text = read(path);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(info) = lines[i].strip_prefix("```") else {
            i += 1;
            continue;
        };
        let language = info.split_whitespace().next().unwrap_or("").to_owned();
        let start = i + 1;
        let end = start + lines[start..].iter().position(|l| l.starts_with("```")).expect("an unclosed block");
        let body = &lines[start..end];
        let place = |n: usize| format!("{path}:{}", start + n + 1);
        match language.as_str() {
            "console" => {
                let mut j = 0;
                while j < body.len() {
                    let Some(first) = body[j].strip_prefix("$ ") else {
                        assert!(body[j].trim().is_empty(), "{}: output without a command", place(j));
                        j += 1;
                        continue;
                    };
                    let at = j;
                    let mut command = first.to_owned();
                    while command.ends_with('\\') {
                        j += 1;
                        command.push('\n');
                        command.push_str(body[j]);
                    }
                    j += 1;
                    let mut output = Vec::new();
                    while j < body.len() && !body[j].starts_with("$ ") {
                        output.push(body[j].to_owned());
                        j += 1;
                    }
                    while output.last().is_some_and(|l| l.trim().is_empty()) {
                        output.pop();
                    }
                    let (command, status) = expected_status(&command);
                    let output = (!output.is_empty()).then_some(output);
                    out.push(Example { place: place(at), command, status, output });
                }
            }
            "sh" | "yaml" => {
                let commands = if language == "sh" { shell_commands(body) } else { workflow_steps(body) };
                for (at, command) in commands {
                    let (command, status) = expected_status(&command);
                    out.push(Example { place: place(at), command, status, output: None });
                }
            }
            _ => {}
        }
        i = end + 1;
    }
    out
}

/// `actual` matches `expected` line by line; `...` alone matches any lines, `[..]` any text.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    fn line_matches(pattern: &str, line: &str) -> bool {
        let mut parts = pattern.split("[..]");
        let first = parts.next().unwrap();
        let Some(mut rest) = line.strip_prefix(first) else { return false };
        let parts: Vec<&str> = parts.collect();
        for (k, part) in parts.iter().enumerate() {
            if k + 1 == parts.len() {
                return rest.ends_with(part);
            }
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.is_empty()
    }
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, more)) if first.trim() == "..." => (0..=actual.len()).any(|skip| matches(more, &actual[skip..])),
        Some((first, more)) => {
            actual.split_first().is_some_and(|(line, rest)| line_matches(first, line) && matches(more, rest))
        }
    }
}

/// A fresh directory to run examples in: fixtures/, an empty HOME, mfacheck and a stand-in az.
fn sandbox() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let copy = Command::new("cp").args(["-R", &format!("{ROOT}/fixtures"), "."]).current_dir(dir.path()).status();
    assert!(copy.unwrap().success());
    let bin = dir.path().join(".bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(dir.path().join(".home")).unwrap();
    // Real `az` without --resource answers with an Azure Resource Manager token: the examples
    // must ask for Partner Center's.
    let az = format!(
        "#!/bin/sh\n\
         [ \"$*\" = 'account get-access-token --resource https://api.partnercenter.microsoft.com' ] || \
         {{ echo \"az stand-in: only 'az account get-access-token --resource https://api.partnercenter.microsoft.com', not: $*\" >&2; exit 3; }}\n\
         printf '{{\\n  \"accessToken\": \"%s\",\\n  \"expiresOn\": \"2100-01-01 00:00:00.000000\",\\n  \"tokenType\": \"Bearer\"\\n}}\\n' \"$(cat '{ROOT}/fixtures/mfa.jwt')\"\n"
    );
    std::fs::write(bin.join("az"), az).unwrap();
    let made = Command::new("chmod").args(["+x", "az"]).current_dir(&bin).status();
    assert!(made.unwrap().success());
    let mfacheck_dir = Path::new(env!("CARGO_BIN_EXE_mfacheck")).parent().unwrap().to_owned();
    let path = format!("{}:{}:{}", mfacheck_dir.display(), bin.display(), std::env::var("PATH").unwrap_or_default());
    (dir, path)
}

/// Runs one command in bash: its exit status (-1 when it took over a minute) and its output.
/// Output goes to a file and the command gets a process group of its own, so an example that
/// leaves a process running (`serve &`) can neither hang the test nor outlive it.
fn run_one(command: &str, dir: &Path, search_path: &str) -> (i32, String) {
    use std::os::unix::process::CommandExt;
    let out_path = dir.join(".output");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = Command::new("bash")
        .args(["-c", command])
        .current_dir(dir)
        .env_clear()
        .env("PATH", search_path)
        .env("HOME", dir.join(".home"))
        .env("LANG", "C.UTF-8")
        .env("TZ", "UTC")
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if std::time::Instant::now() > deadline {
            break -1;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    // SAFETY: a plain kill(2) of the process group this test made for the example.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    let _ = child.wait();
    (status, std::fs::read_to_string(&out_path).unwrap_or_default())
}

fn run_examples(path: &str) {
    assert!(
        Command::new("jq").arg("--version").output().is_ok_and(|o| o.status.success()),
        "the examples use jq: install it (apt-get install jq)"
    );
    let examples = examples(path);
    assert!(!examples.is_empty(), "{path}: no runnable example");
    let (dir, search_path) = sandbox();
    let mut failures = Vec::new();
    for example in &examples {
        let (status, stdout) = run_one(&example.command, dir.path(), &search_path);
        let actual: Vec<&str> = stdout.lines().collect();
        let output_ok = example.output.as_ref().is_none_or(|expected| matches(expected, &actual));
        if status != example.status || !output_ok {
            failures.push(format!(
                "{}: `{}`\n  exit {status} (expected {}){}\n  output:\n{}",
                example.place,
                example.command,
                example.status,
                if output_ok { "" } else { ", output differs from the document" },
                actual.iter().take(40).map(|l| format!("    {l}\n")).collect::<String>()
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} examples failed:\n{}", failures.len(), examples.len(), failures.join("\n"));
}

#[test]
fn readme_examples_work_when_copied() {
    run_examples("README.md");
}

#[test]
fn guide_examples_work_when_copied() {
    run_examples("docs/guide.md");
}

#[test]
fn reference_examples_work_when_copied() {
    run_examples("docs/reference.md");
}

#[test]
fn example_matching_rules() {
    let expected = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert!(matches(&expected(&["a [..] c", "...", "z"]), &["a b c", "x", "y", "z"]));
    assert!(matches(&expected(&["...", "z"]), &["z"]));
    assert!(!matches(&expected(&["a [..] c"]), &["a b d"]));
    assert!(!matches(&expected(&["a"]), &["a", "b"]));
    assert_eq!(expected_status("mfacheck check x   # exit 1: MFA missing"), ("mfacheck check x".into(), 1));
    assert_eq!(expected_status("mfacheck check '#x'"), ("mfacheck check '#x'".into(), 0));
    let sh = shell_commands(&["# a comment", "a \\", "  b | ", "  c", "d   # exit status 2"]);
    assert_eq!(
        sh.iter().map(|(_, c)| expected_status(c)).collect::<Vec<_>>(),
        [("a \\\n  b | \n  c".to_owned(), 0), ("d".to_owned(), 2)]
    );
    let steps = workflow_steps(&["  - run: cargo install --path .", "  - run: |", "      x", "      y", "  - run: z"]);
    assert_eq!(steps.into_iter().map(|(_, c)| c).collect::<Vec<_>>(), ["x", "y", "z"]);
}
