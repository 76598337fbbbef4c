//! The one message catalogue: every sentence trustsync prints for a person is a message id
//! with named arguments, looked up here in the run's language (English, or Simplified
//! Chinese for a `zh_CN`/`zh_SG`/`zh_Hans` locale).
//!
//! Why Fluent (`fluent-bundle`, `unic-langid`; Mozilla's Project Fluent, MIT/Apache-2.0,
//! maintained): a message is a whole sentence with named placeables (`{ $path }`) and
//! plural selectors (`{ $count -> [one] … *[other] … }`) decided by each language's CLDR
//! rules, so no code glues translated fragments together or guesses an English plural.
//! The catalogues are plain `.ftl` files beside this one, embedded with `include_str!`
//! (the binary is static and carries no data files). `rust-i18n` was the alternative: its
//! YAML and `%{name}` interpolation have no plural rules, which counts here need.
//!
//! Two rules this module keeps for the rest of the crate:
//! - `--json` is never translated: a document's `message` fields are [`Msg::en`], so a
//!   script's locale never changes what it parses. Human output uses [`Msg::text`].
//! - Fluent wraps each placeable in Unicode isolation marks (U+2068, U+2069) by default;
//!   they are bidi controls [`crate::term::escape`] would show as `\u{2068}`, so isolation
//!   is off. Arguments keep their own escaping: the printer escapes what came from outside
//!   (paths, certificate names) either before passing it or on the whole rendered line,
//!   and no catalogue text holds a character `escape` changes (tested below).
//!
//! Adding a message: put the id in both `en.ftl` and `zh-CN.ftl` with the same placeables,
//! then use it as `msg!("id", name = value)` (a [`Msg`]) or `t!("id", …)` (its text now).
//! `catalogue_is_complete` fails until both files have it.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;

const EN_FTL: &str = include_str!("en.ftl");
const ZH_FTL: &str = include_str!("zh-CN.ftl");

/// A language trustsync speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    /// Simplified Chinese.
    ZhHans,
}

impl Lang {
    /// The language of one POSIX locale name: `zh_CN`, `zh_SG` or `zh_Hans` (any
    /// `.codeset` or `@modifier` after it, `-` for `_` too) is Simplified Chinese; every
    /// other name (`C`, `POSIX`, `zh_TW`, `zh_HK`, bare `zh`) is English.
    pub fn of_locale(locale: &str) -> Lang {
        let name = locale.split(['.', '@']).next().unwrap_or("");
        let mut parts = name.split(['_', '-']);
        let (lang, region) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if lang.eq_ignore_ascii_case("zh")
            && ["CN", "SG", "Hans"]
                .iter()
                .any(|r| r.eq_ignore_ascii_case(region))
        {
            Lang::ZhHans
        } else {
            Lang::En
        }
    }

    /// The language the environment asks for, as POSIX picks the messages locale:
    /// `LC_ALL`, then `LC_MESSAGES`, then `LANG`, the first one set and not empty.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|var| get(var).filter(|v| !v.is_empty()))
            .map_or(Lang::En, |l| Lang::of_locale(&l))
    }
}

/// The run's language, set once by the CLI at start-up ([`set_lang`]); English until then
/// (library users and tests that never set it see English).
static LANG: OnceLock<Lang> = OnceLock::new();

pub fn set_lang(lang: Lang) {
    let _ = LANG.set(lang);
}

pub fn lang() -> Lang {
    LANG.get().copied().unwrap_or(Lang::En)
}

/// One argument of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Str(String),
    /// A count: plural selectors choose on it.
    Num(i64),
    /// A clause that is itself a message, rendered in the same language as the one that
    /// holds it (the "which does not exist" of "CA file X does not exist").
    Msg(Box<Msg>),
}

macro_rules! from_num {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Arg {
                Arg::Num(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
from_num!(usize, u32, u64, i32, i64, u16, u8);

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Str(s)
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Str(s.to_string())
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Str(s.clone())
    }
}

impl From<std::borrow::Cow<'_, str>> for Arg {
    fn from(s: std::borrow::Cow<'_, str>) -> Arg {
        Arg::Str(s.into_owned())
    }
}

impl From<Msg> for Arg {
    fn from(m: Msg) -> Arg {
        Arg::Msg(Box::new(m))
    }
}

/// A message id and its named arguments, rendered when it is shown: in English for
/// `--json` and logs ([`Msg::en`]), in the run's language for a person ([`Msg::text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub id: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

impl Msg {
    pub fn new(id: &'static str) -> Msg {
        Msg {
            id,
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, name: &'static str, value: impl Into<Arg>) -> Msg {
        self.args.push((name, value.into()));
        self
    }

    /// The English text: what `--json` carries.
    pub fn en(&self) -> String {
        self.render(Lang::En)
    }

    /// The text in the run's language: what a person reads.
    pub fn text(&self) -> String {
        self.render(lang())
    }

    pub fn render(&self, lang: Lang) -> String {
        let bundle = bundle(lang);
        let mut args = FluentArgs::new();
        for (name, value) in &self.args {
            let v: FluentValue = match value {
                Arg::Str(s) => FluentValue::from(s.as_str()),
                Arg::Num(n) => FluentValue::from(*n),
                Arg::Msg(m) => FluentValue::from(m.render(lang)),
            };
            args.set(*name, v);
        }
        let Some(pattern) = bundle.get_message(self.id).and_then(|m| m.value()) else {
            // The catalogue test keeps every id used in the source in both files; a
            // release binary still says something rather than nothing.
            debug_assert!(false, "message id {} is not in the catalogue", self.id);
            return self.id.to_string();
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
        debug_assert!(errors.is_empty(), "message {}: {errors:?}", self.id);
        text.into_owned()
    }
}

/// What a person reads of a report's sentence: `msg` in the run's language when the
/// sentence came from the catalogue, else its English text as it is.
pub fn shown(msg: Option<&Msg>, english: &str) -> String {
    msg.map_or_else(|| english.to_string(), Msg::text)
}

/// A report's sentence that may come from the catalogue or in words from elsewhere (a
/// platform reader's error): serialized as its English text, shown in the run's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub en: String,
    pub msg: Option<Msg>,
}

impl Said {
    /// Text that is not in the catalogue: the same in every language.
    pub fn words(text: String) -> Said {
        Said {
            en: text,
            msg: None,
        }
    }

    pub fn text(&self) -> String {
        shown(self.msg.as_ref(), &self.en)
    }
}

impl From<Msg> for Said {
    fn from(m: Msg) -> Said {
        Said {
            en: m.en(),
            msg: Some(m),
        }
    }
}

impl serde::Serialize for Said {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.en)
    }
}

/// A [`Msg`]: `msg!("id", name = value, …)`.
#[macro_export]
macro_rules! msg {
    ($id:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::i18n::Msg::new($id)$(.arg(stringify!($name), $value))*
    };
}

/// A message's text in the run's language: `t!("id", name = value, …)`.
#[macro_export]
macro_rules! t {
    ($id:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::msg!($id $(, $name = $value)*).text()
    };
}

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static EN: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    static ZH: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    let (cell, source, tag) = match lang {
        Lang::En => (&EN, EN_FTL, "en"),
        Lang::ZhHans => (&ZH, ZH_FTL, "zh-Hans"),
    };
    cell.get_or_init(|| {
        let id: unic_langid::LanguageIdentifier = tag.parse().expect("a valid language tag");
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        bundle.set_use_isolating(false);
        let resource = FluentResource::try_new(source.to_string())
            .unwrap_or_else(|(_, e)| panic!("{tag}.ftl does not parse: {e:?}"));
        bundle
            .add_resource(resource)
            .unwrap_or_else(|e| panic!("{tag}.ftl: {e:?}"));
        bundle
    })
}

#[cfg(test)]
mod tests;
