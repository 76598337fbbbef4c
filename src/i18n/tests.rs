//! The catalogue's own checks: the locale rule, and that the two `.ftl` files and the
//! source agree (every id used has both translations, with the same placeables), so a
//! message added in one place only fails here and not in front of a user.

use super::*;
use fluent_syntax::ast;
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn locale_names_pick_the_language() {
    for zh in [
        "zh_CN",
        "zh_CN.UTF-8",
        "zh_CN.utf8",
        "zh_SG.GB2312",
        "zh_Hans",
        "zh_Hans.UTF-8",
        "zh-Hans",
        "zh_CN@pinyin",
        "zh_CN.UTF-8@stroke",
    ] {
        assert_eq!(Lang::of_locale(zh), Lang::ZhHans, "{zh}");
    }
    for en in [
        "",
        "C",
        "POSIX",
        "C.UTF-8",
        "en_US.UTF-8",
        "zh_TW.UTF-8",
        "zh_HK",
        "zh",
        "zh_Hant",
        "de_DE",
        "zhCN",
    ] {
        assert_eq!(Lang::of_locale(en), Lang::En, "{en}");
    }
}

#[test]
fn the_first_set_variable_decides_as_posix_says() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(Lang::from_env(env(&[])), Lang::En);
    assert_eq!(
        Lang::from_env(env(&[("LANG", "zh_CN.UTF-8")])),
        Lang::ZhHans
    );
    assert_eq!(
        Lang::from_env(env(&[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")])),
        Lang::En,
        "LC_ALL wins over LANG"
    );
    assert_eq!(
        Lang::from_env(env(&[("LC_MESSAGES", "zh_SG"), ("LANG", "C")])),
        Lang::ZhHans,
        "LC_MESSAGES wins over LANG"
    );
    assert_eq!(
        Lang::from_env(env(&[
            ("LC_ALL", ""),
            ("LC_MESSAGES", ""),
            ("LANG", "zh_Hans")
        ])),
        Lang::ZhHans,
        "an empty variable is skipped"
    );
    assert_eq!(
        Lang::from_env(env(&[("LC_ALL", "zh_TW.UTF-8"), ("LANG", "zh_CN")])),
        Lang::En
    );
}

/// Every message id and the variables its value (all variants) refers to.
fn catalogue(source: &str, name: &str) -> BTreeMap<String, BTreeSet<String>> {
    let resource = fluent_syntax::parser::parse(source)
        .unwrap_or_else(|(_, e)| panic!("{name} does not parse: {e:?}"));
    let mut out = BTreeMap::new();
    for entry in resource.body {
        match entry {
            ast::Entry::Message(m) => {
                let mut vars = BTreeSet::new();
                if let Some(p) = &m.value {
                    pattern_vars(p, &mut vars);
                } else {
                    panic!("{name}: {} has no value", m.id.name);
                }
                assert!(
                    out.insert(m.id.name.to_string(), vars).is_none(),
                    "{name}: {} twice",
                    m.id.name
                );
            }
            ast::Entry::Junk { content } => panic!("{name}: junk: {content}"),
            _ => {}
        }
    }
    out
}

fn pattern_vars(p: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) {
    for e in &p.elements {
        if let ast::PatternElement::Placeable { expression } = e {
            expression_vars(expression, vars);
        }
    }
}

fn expression_vars(e: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        ast::Expression::Inline(i) => inline_vars(i, vars),
        ast::Expression::Select { selector, variants } => {
            inline_vars(selector, vars);
            for v in variants {
                pattern_vars(&v.value, vars);
            }
        }
    }
}

fn inline_vars(i: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    match i {
        ast::InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_string());
        }
        ast::InlineExpression::Placeable { expression } => expression_vars(expression, vars),
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_vars(a, vars);
            }
        }
        _ => {}
    }
}

/// Every id the source passes to `msg!` or `t!`, with the file using it.
fn ids_in_source() -> BTreeMap<String, String> {
    let mut ids = BTreeMap::new();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        if entry.path().ends_with("i18n/tests.rs") {
            continue; // this scanner, which names the macros it looks for
        }
        // Comments name the macros in examples; only code counts.
        let text: String = std::fs::read_to_string(entry.path())
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .map(|l| l.to_string() + "\n")
            .collect();
        for mac in ["msg!(", "t!("] {
            for (at, _) in text.match_indices(mac) {
                // `t!(` ends `format!(` too: only the macro itself counts.
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = text[at + mac.len()..].trim_start();
                let Some(rest) = rest.strip_prefix('"') else {
                    continue; // the macro definitions themselves
                };
                let id = &rest[..rest.find('"').unwrap()];
                ids.insert(id.to_string(), entry.path().display().to_string());
            }
        }
        for (at, _) in text.match_indices("Msg::new(\"") {
            let rest = &text[at + "Msg::new(\"".len()..];
            let id = &rest[..rest.find('"').unwrap()];
            ids.insert(id.to_string(), entry.path().display().to_string());
        }
    }
    ids
}

#[test]
fn catalogue_is_complete() {
    let en = catalogue(EN_FTL, "en.ftl");
    let zh = catalogue(ZH_FTL, "zh-CN.ftl");
    let en_ids: BTreeSet<_> = en.keys().collect();
    let zh_ids: BTreeSet<_> = zh.keys().collect();
    assert_eq!(
        en_ids.difference(&zh_ids).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "in en.ftl, not in zh-CN.ftl"
    );
    assert_eq!(
        zh_ids.difference(&en_ids).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "in zh-CN.ftl, not in en.ftl"
    );
    for (id, vars) in &en {
        assert_eq!(
            vars, &zh[id],
            "{id}: the Chinese placeables differ from the English ones"
        );
    }
    let used = ids_in_source();
    assert!(
        used.len() > 20,
        "the source scan found too few ids: {used:?}"
    );
    for (id, file) in &used {
        assert!(en.contains_key(id), "{file} uses {id}, which en.ftl lacks");
    }
    for id in en.keys() {
        assert!(
            used.contains_key(id),
            "{id} is in the catalogue but no source uses it"
        );
    }
}

#[test]
fn catalogue_text_is_terminal_safe() {
    // What the catalogue says reaches the terminal unescaped (only arguments are outside
    // text), so it must hold nothing `term::escape` would change.
    for (name, source) in [("en.ftl", EN_FTL), ("zh-CN.ftl", ZH_FTL)] {
        for (n, line) in source.lines().enumerate() {
            assert!(
                !line.chars().any(crate::term::is_unsafe),
                "{name}:{}: a control or bidi character",
                n + 1
            );
        }
    }
}

#[test]
fn placeables_are_not_isolated_and_plurals_follow_the_language() {
    let one = Msg::new("status-summary")
        .arg("ok", 1)
        .arg("drift", 0)
        .arg("broken", 2);
    assert_eq!(one.render(Lang::En), "1 ok, 0 drift, 2 broken");
    let zh = one.render(Lang::ZhHans);
    assert!(!zh.contains(['\u{2068}', '\u{2069}']), "{zh:?}");
    assert!(zh.contains('1') && zh.contains('2'), "{zh}");
    let rows = |n: i64| {
        Msg::new("status-fix-line")
            .arg("count", n)
            .arg("command", "sudo trustsync fix")
    };
    assert!(
        rows(1).en().contains("fixes 1 runtime above"),
        "{}",
        rows(1).en()
    );
    assert!(
        rows(3).en().contains("fixes 3 runtimes above"),
        "{}",
        rows(3).en()
    );
    assert!(rows(3).render(Lang::ZhHans).contains('3'));
}

#[test]
fn an_unset_language_is_english() {
    // Tests never call set_lang: what they render is the English JSON and golden text.
    assert_eq!(lang(), Lang::En);
}
