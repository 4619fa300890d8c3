//! The CI recipes in `ci/` parse (YAML, Groovy structure), and every
//! `standby` command in them is one the real command line accepts.

use std::path::Path;

use clap::Parser;
use standby::cli::Cli;

const SUBCOMMANDS: &[&str] = &[
    "check", "diff", "snapshot", "explain", "demo", "mock", "rehearse", "plan",
];

fn recipe(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ci").join(name)).unwrap()
}

/// Every `standby SUBCOMMAND ...` in a recipe, up to the end of the shell word list.
fn commands(text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') || trimmed.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("standby ") {
            let before = rest[..at].chars().last();
            let after = &rest[at + "standby ".len()..];
            rest = after;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '/') {
                continue;
            }
            let end = after
                .find(['\'', '"', '|', ';', ')', '&', '>'])
                .unwrap_or(after.len());
            let words: Vec<String> = after[..end].split_whitespace().map(str::to_owned).collect();
            let looks_like_command = words
                .first()
                .is_some_and(|w| SUBCOMMANDS.contains(&w.as_str()))
                || words.get(1).is_some_and(|w| w.starts_with("--"));
            if looks_like_command {
                found.push(words);
            }
        }
    }
    found
}

fn assert_commands_parse(name: &str, text: &str) {
    let commands = commands(text);
    assert!(
        commands
            .iter()
            .any(|c| c.first().map(String::as_str) == Some("check")),
        "{name} runs `standby check`"
    );
    for words in commands {
        let argv = std::iter::once("standby".to_owned()).chain(words.iter().cloned());
        if let Err(e) = Cli::try_parse_from(argv) {
            panic!(
                "{name}: `standby {}` is not a valid command line:\n{e}",
                words.join(" ")
            );
        }
    }
    for needle in ["drift.junit.xml", "drift.md", "standby-snapshots"] {
        assert!(text.contains(needle), "{name} uses {needle}");
    }
}

fn assert_yaml(name: &str, text: &str) {
    let mut events = 0;
    for event in saphyr_parser::Parser::new_from_str(text) {
        if let Err(e) = event {
            panic!("{name} is not valid YAML: {e}");
        }
        events += 1;
    }
    assert!(events > 10, "{name} has content");
}

/// Groovy structure: brackets balance outside strings and comments, and
/// every string literal is closed.
fn assert_groovy(name: &str, text: &str) {
    let mut stack = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '\'' | '"' => {
                let quote = c;
                loop {
                    match chars.next() {
                        Some('\\') => {
                            chars.next();
                        }
                        Some(q) if q == quote => break,
                        Some('\n') | None => panic!("{name}:{line}: unclosed string"),
                        Some(_) => {}
                    }
                }
            }
            '(' | '{' | '[' => stack.push((c, line)),
            ')' | '}' | ']' => {
                let open = stack
                    .pop()
                    .unwrap_or_else(|| panic!("{name}:{line}: unbalanced `{c}`"));
                let expected = match open.0 {
                    '(' => ')',
                    '{' => '}',
                    _ => ']',
                };
                assert_eq!(
                    c, expected,
                    "{name}:{line}: `{c}` closes `{}` of line {}",
                    open.0, open.1
                );
            }
            _ => {}
        }
    }
    assert!(stack.is_empty(), "{name}: unclosed {stack:?}");
    assert!(
        text.contains("pipeline {"),
        "{name} is a declarative pipeline"
    );
}

#[test]
fn every_recipe_parses_and_names_real_commands_and_flags() {
    for name in ["github-actions.yml", "gitlab-ci.yml", "azure-pipelines.yml"] {
        let text = recipe(name);
        assert_yaml(name, &text);
        assert_commands_parse(name, &text);
    }
    let jenkins = recipe("Jenkinsfile");
    assert_groovy("Jenkinsfile", &jenkins);
    assert_commands_parse("Jenkinsfile", &jenkins);
}

#[test]
fn the_checks_catch_broken_recipes() {
    assert!(std::panic::catch_unwind(|| assert_yaml("x", "a: [1, 2\nb: }")).is_err());
    assert!(std::panic::catch_unwind(|| assert_groovy("x", "pipeline { stage('a') {")).is_err());
    let typo = "run: standby check --confg standby.toml drift.junit.xml drift.md standby-snapshots";
    assert!(std::panic::catch_unwind(|| assert_commands_parse("x", typo)).is_err());
    let wrong = "run: standby chek --config standby.toml && standby check drift.junit.xml drift.md standby-snapshots";
    assert!(std::panic::catch_unwind(|| assert_commands_parse("x", wrong)).is_err());
}
