//! Configuration: one file (`kefu.toml`, see `kefu.example.toml`) with
//! environment overrides. The only place that reads the environment or the
//! config file; everything else gets a [`Config`].
//!
//! Every setting has a default, so kefu runs with no file at all.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::diag::{Diagnostic, SourceFile};
use crate::ticket::Sla;

/// What an agent may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    /// Also reassigns tickets, sees overdue tickets first, reloads packs.
    Supervisor,
}

/// A person allowed to take tickets.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    /// Telegram user id.
    pub id: i64,
    /// Shown to users ("Alice has taken your ticket") and in `/reassign`.
    pub name: String,
    #[serde(default = "default_role")]
    pub role: Role,
}

fn default_role() -> Role {
    Role::Agent
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// A dialog left alone this long is dropped.
    pub idle_timeout: Duration,
    /// The users' time zone, minutes east of UTC.
    pub utc_offset_minutes: i32,
    /// The agents' Telegram group, if any.
    pub agents_group: Option<i64>,
    pub agents: Vec<Agent>,
    pub sla: Sla,
    /// Domains whose links are official; look-alikes are flagged.
    pub official_domains: Vec<String>,
    /// Official staff Telegram handles, for `/verify @handle`.
    pub staff_handles: Vec<String>,
    /// Flood control: at most `flood_messages` per `flood_window` per user.
    pub flood_messages: u32,
    pub flood_window: Duration,
    /// Address of the admin endpoint (`/healthz`, `/metrics`, the ticket
    /// API). Beyond loopback only with `admin_token`.
    pub admin: Option<String>,
    /// The bearer token the ticket API (and any page with user data)
    /// requires (`[serve] admin_token`, `KEFU_ADMIN_TOKEN`). Without one,
    /// those routes are not served at all.
    pub admin_token: Option<Secret>,
    /// Webhook listen address (webhook mode only).
    pub webhook_listen: Option<String>,
    /// `kefu serve`'s threads for the network (Telegram, the webhook, the
    /// admin endpoint). Decisions and the store run on a pool of their own.
    pub threads: usize,
    /// The bot token (`TELOXIDE_TOKEN`; environment only, never a file).
    pub telegram_token: Option<Secret>,
    /// Another Bot API server (`TELOXIDE_API_URL`), e.g. a local one.
    pub telegram_api_url: Option<String>,
    /// `kefu serve`'s log filter (`RUST_LOG`, e.g. `info`, `kefu=debug`).
    pub log_filter: Option<String>,
}

/// A value that must never reach a log: `Debug` prints only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idle_timeout: Duration::from_secs(30 * 60),
            utc_offset_minutes: 8 * 60,
            agents_group: None,
            agents: Vec::new(),
            sla: Sla::default(),
            official_domains: Vec::new(),
            staff_handles: Vec::new(),
            flood_messages: 8,
            flood_window: Duration::from_secs(10),
            admin: None,
            admin_token: None,
            webhook_listen: None,
            threads: 1,
            telegram_token: None,
            telegram_api_url: None,
            log_filter: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    bot: BotSection,
    #[serde(default)]
    agents: AgentsSection,
    #[serde(default)]
    sla: SlaSection,
    #[serde(default)]
    guard: GuardSection,
    #[serde(default)]
    limits: LimitsSection,
    #[serde(default)]
    serve: ServeSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BotSection {
    idle_timeout: Option<toml::Spanned<String>>,
    utc_offset: Option<toml::Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentsSection {
    group: Option<i64>,
    #[serde(default)]
    member: Vec<Agent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlaSection {
    urgent: Option<toml::Spanned<String>>,
    high: Option<toml::Spanned<String>>,
    normal: Option<toml::Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuardSection {
    #[serde(default)]
    official_domains: Vec<String>,
    #[serde(default)]
    staff_handles: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    flood_messages: Option<u32>,
    flood_window: Option<toml::Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeSection {
    admin: Option<String>,
    admin_token: Option<toml::Spanned<String>>,
    webhook_listen: Option<String>,
    threads: Option<toml::Spanned<usize>>,
}

/// The shortest admin token accepted: a short one can be guessed.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 16;

/// Checks an admin token: long enough, printable, no spaces (it travels
/// in an HTTP header).
fn admin_token(text: &str) -> Result<Secret, String> {
    let token = text.trim();
    if token.chars().count() < MIN_ADMIN_TOKEN_CHARS {
        return Err(format!(
            "the token must be at least {MIN_ADMIN_TOKEN_CHARS} characters (e.g. `openssl rand -hex 24`)"
        ));
    }
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err("the token may hold only printable ASCII without spaces".to_string());
    }
    Ok(Secret(token.to_string()))
}

/// Network threads beyond this are refused as a typo.
const MAX_THREADS: usize = 64;

/// `+08:00`, `-05:30`, `UTC` → minutes east of UTC.
pub fn parse_utc_offset(text: &str) -> Option<i32> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("utc") || text == "Z" {
        return Some(0);
    }
    let text = text
        .strip_prefix("UTC")
        .or_else(|| text.strip_prefix("utc"))
        .unwrap_or(text);
    let (sign, rest) = match text.chars().next()? {
        '+' => (1, &text[1..]),
        '-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    ((0..=14).contains(&hours) && (0..60).contains(&minutes))
        .then_some(sign * (hours * 60 + minutes))
}

fn duration(
    file: &SourceFile,
    value: &toml::Spanned<String>,
    problems: &mut Vec<Diagnostic>,
) -> Option<Duration> {
    match humantime::parse_duration(value.get_ref()) {
        Ok(d) if !d.is_zero() => Some(d),
        Ok(_) => {
            problems.push(file.error(value.span().start, "a duration must be more than zero"));
            None
        }
        Err(e) => {
            problems.push(file.error(
                value.span().start,
                format!(
                    "`{}` is not a duration ({e}); write e.g. \"30m\", \"4h\", \"1h 30m\"",
                    value.get_ref()
                ),
            ));
            None
        }
    }
}

impl Config {
    /// Parses a config file's text; every problem with `file:line:column`.
    pub fn parse(file: &SourceFile) -> Result<Config, Vec<Diagnostic>> {
        let parsed: File = file.parse_toml().map_err(|d| vec![d])?;
        let mut problems = Vec::new();
        let mut config = Config::default();
        if let Some(t) = &parsed.bot.idle_timeout {
            if let Some(d) = duration(file, t, &mut problems) {
                config.idle_timeout = d;
            }
        }
        if let Some(o) = &parsed.bot.utc_offset {
            match parse_utc_offset(o.get_ref()) {
                Some(minutes) => config.utc_offset_minutes = minutes,
                None => problems.push(file.error(
                    o.span().start,
                    format!(
                        "`{}` is not a UTC offset; write e.g. \"+08:00\" or \"UTC\"",
                        o.get_ref()
                    ),
                )),
            }
        }
        config.agents_group = parsed.agents.group;
        config.agents = parsed.agents.member;
        let mut seen = std::collections::HashSet::new();
        for agent in &config.agents {
            if !seen.insert(agent.id) {
                problems.push(file.error(0, format!("agent id {} is listed twice", agent.id)));
            }
        }
        for (slot, value) in [
            (&mut config.sla.urgent_secs, &parsed.sla.urgent),
            (&mut config.sla.high_secs, &parsed.sla.high),
            (&mut config.sla.normal_secs, &parsed.sla.normal),
        ] {
            if let Some(value) = value {
                if let Some(d) = duration(file, value, &mut problems) {
                    *slot = d.as_secs() as i64;
                }
            }
        }
        config.official_domains = parsed
            .guard
            .official_domains
            .iter()
            .map(|d| d.trim().trim_start_matches("*.").to_lowercase())
            .collect();
        config.staff_handles = parsed
            .guard
            .staff_handles
            .iter()
            .map(|h| normalize_handle(h))
            .collect();
        if let Some(n) = parsed.limits.flood_messages {
            config.flood_messages = n.max(1);
        }
        if let Some(w) = &parsed.limits.flood_window {
            if let Some(d) = duration(file, w, &mut problems) {
                config.flood_window = d;
            }
        }
        config.admin = parsed.serve.admin;
        if let Some(token) = &parsed.serve.admin_token {
            match admin_token(token.get_ref()) {
                Ok(token) => config.admin_token = Some(token),
                Err(problem) => {
                    problems.push(file.error(token.span().start, format!("admin_token: {problem}")))
                }
            }
        }
        config.webhook_listen = parsed.serve.webhook_listen;
        if let Some(threads) = &parsed.serve.threads {
            match *threads.get_ref() {
                n @ 1..=MAX_THREADS => config.threads = n,
                n => problems.push(file.error(
                    threads.span().start,
                    format!("threads = {n}: it must be between 1 and {MAX_THREADS}"),
                )),
            }
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// Reads `path` (a missing file is an error only when `required`) and
    /// applies the environment overrides (`KEFU_AGENTS_GROUP`,
    /// `KEFU_IDLE_TIMEOUT`, `KEFU_UTC_OFFSET`, `KEFU_OFFICIAL_DOMAINS`,
    /// `KEFU_STAFF_HANDLES`, `KEFU_ADMIN`, `KEFU_THREADS`), and teloxide's own
    /// `TELOXIDE_TOKEN` and `TELOXIDE_API_URL`.
    pub fn load(path: &Path, required: bool) -> anyhow::Result<Config> {
        let mut config = match std::fs::read_to_string(path) {
            Ok(text) => {
                let file = SourceFile::new(path.display().to_string(), text);
                Config::parse(&file).map_err(|problems| {
                    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
                    anyhow::anyhow!("{}", lines.join("\n"))
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Config::default(),
            Err(e) => anyhow::bail!("{}: {e}", path.display()),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// Environment overrides, read through `get` (tests pass their own).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(group) = get("KEFU_AGENTS_GROUP") {
            self.agents_group =
                Some(group.trim().parse().map_err(|_| {
                    anyhow::anyhow!("KEFU_AGENTS_GROUP: `{group}` is not a chat id")
                })?);
        }
        if let Some(t) = get("KEFU_IDLE_TIMEOUT") {
            self.idle_timeout = humantime::parse_duration(&t)
                .map_err(|e| anyhow::anyhow!("KEFU_IDLE_TIMEOUT: {e}"))?;
        }
        if let Some(o) = get("KEFU_UTC_OFFSET") {
            self.utc_offset_minutes = parse_utc_offset(&o)
                .ok_or_else(|| anyhow::anyhow!("KEFU_UTC_OFFSET: `{o}` is not a UTC offset"))?;
        }
        if let Some(d) = get("KEFU_OFFICIAL_DOMAINS") {
            self.official_domains = d
                .split(',')
                .map(|d| d.trim().to_lowercase())
                .filter(|d| !d.is_empty())
                .collect();
        }
        if let Some(h) = get("KEFU_STAFF_HANDLES") {
            self.staff_handles = h
                .split(',')
                .filter(|h| !h.trim().is_empty())
                .map(normalize_handle)
                .collect();
        }
        if let Some(a) = get("KEFU_ADMIN") {
            self.admin = Some(a);
        }
        if let Some(token) = get("KEFU_ADMIN_TOKEN").filter(|t| !t.trim().is_empty()) {
            self.admin_token =
                Some(admin_token(&token).map_err(|e| anyhow::anyhow!("KEFU_ADMIN_TOKEN: {e}"))?);
        }
        if let Some(t) = get("KEFU_THREADS") {
            self.threads = t
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=MAX_THREADS).contains(n))
                .ok_or_else(|| {
                    anyhow::anyhow!("KEFU_THREADS: `{t}` is not a number from 1 to {MAX_THREADS}")
                })?;
        }
        if let Some(token) = get("TELOXIDE_TOKEN").filter(|t| !t.trim().is_empty()) {
            self.telegram_token = Some(Secret(token.trim().to_string()));
        }
        if let Some(url) = get("TELOXIDE_API_URL").filter(|u| !u.trim().is_empty()) {
            self.telegram_api_url = Some(url.trim().to_string());
        }
        if let Some(filter) = get("RUST_LOG") {
            self.log_filter = Some(filter);
        }
        Ok(())
    }

    /// The brain's settings from this configuration.
    pub fn brain_settings(&self) -> crate::brain::Settings {
        crate::brain::Settings {
            idle_timeout_secs: self.idle_timeout.as_secs() as i64,
            utc_offset_minutes: self.utc_offset_minutes,
            staff_handles: self.staff_handles.clone(),
            official_domains: self.official_domains.clone(),
        }
    }

    pub fn agent(&self, id: i64) -> Option<&Agent> {
        self.agents.iter().find(|a| a.id == id)
    }
}

/// `@ExampleSupport` / `examplesupport` → `examplesupport`.
pub fn normalize_handle(handle: &str) -> String {
    handle.trim().trim_start_matches('@').to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_parses() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/kefu.example.toml"))
                .unwrap();
        let config = Config::parse(&SourceFile::new("kefu.example.toml", text)).unwrap();
        assert_eq!(config.utc_offset_minutes, 480);
        assert_eq!(config.sla.urgent_secs, 15 * 60);
        assert!(!config.agents.is_empty());
        assert!(config.agents.iter().any(|a| a.role == Role::Supervisor));
        assert_eq!(config.threads, 1);
    }

    #[test]
    fn problems_point_at_their_place() {
        let file = SourceFile::new(
            "kefu.toml",
            "[bot]\nidle_timeout = \"soon\"\nutc_offset = \"+25:00\"\n[sla]\nhigh = \"0s\"\n",
        );
        let problems = Config::parse(&file).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            text[0].starts_with("kefu.toml:2:16: error: `soon` is not a duration"),
            "{text:?}"
        );
        assert!(
            text[1].starts_with("kefu.toml:3:14: error: `+25:00` is not a UTC offset"),
            "{text:?}"
        );
        assert!(
            text[2].starts_with("kefu.toml:5:8: error: a duration must be more than zero"),
            "{text:?}"
        );
        let threads =
            Config::parse(&SourceFile::new("k.toml", "[serve]\nthreads = 0\n")).unwrap_err();
        assert!(
            threads[0]
                .to_string()
                .starts_with("k.toml:2:11: error: threads = 0"),
            "{threads:?}"
        );
        let unknown = Config::parse(&SourceFile::new("k.toml", "[bot]\ncolour = 1\n")).unwrap_err();
        assert!(unknown[0].to_string().contains("unknown field `colour`"));
    }

    #[test]
    fn admin_tokens_are_checked_and_never_printed() {
        let config = Config::parse(&SourceFile::new(
            "k.toml",
            "[serve]\nadmin_token = \"0123456789abcdef-long\"\n",
        ))
        .unwrap();
        let token = config.admin_token.clone().unwrap();
        assert_eq!(token.0, "0123456789abcdef-long");
        assert!(!format!("{config:?}").contains("0123456789abcdef"));
        let short = Config::parse(&SourceFile::new(
            "k.toml",
            "[serve]\nadmin_token = \"abc\"\n",
        ))
        .unwrap_err();
        assert!(
            short[0]
                .to_string()
                .starts_with("k.toml:2:15: error: admin_token: the token must be at least 16"),
            "{short:?}"
        );
        let mut env = Config::default();
        env.apply_env(|name| (name == "KEFU_ADMIN_TOKEN").then(|| "a b c d e f g h i j".into()))
            .unwrap_err();
        env.apply_env(|name| (name == "KEFU_ADMIN_TOKEN").then(|| " tok-tok-tok-tok-1 ".into()))
            .unwrap();
        assert_eq!(env.admin_token.unwrap().0, "tok-tok-tok-tok-1");
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut config = Config::default();
        config
            .apply_env(|name| match name {
                "KEFU_AGENTS_GROUP" => Some("-100123".into()),
                "KEFU_OFFICIAL_DOMAINS" => Some("Example.com, help.example.com".into()),
                "KEFU_STAFF_HANDLES" => Some("@Alice_Support".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.agents_group, Some(-100123));
        assert_eq!(
            config.official_domains,
            vec!["example.com", "help.example.com"]
        );
        assert_eq!(config.staff_handles, vec!["alice_support"]);
        assert_eq!(config.threads, 1);
        config
            .apply_env(|n| (n == "KEFU_THREADS").then(|| "4".into()))
            .unwrap();
        assert_eq!(config.threads, 4);
        for bad in ["0", "many", "65"] {
            assert!(config
                .apply_env(|n| (n == "KEFU_THREADS").then(|| bad.into()))
                .is_err());
        }
        assert!(config
            .apply_env(|n| (n == "KEFU_AGENTS_GROUP").then(|| "x".into()))
            .is_err());
    }

    #[test]
    fn utc_offsets() {
        assert_eq!(parse_utc_offset("+08:00"), Some(480));
        assert_eq!(parse_utc_offset("UTC-5"), Some(-300));
        assert_eq!(parse_utc_offset("utc"), Some(0));
        assert_eq!(parse_utc_offset("8"), None);
    }
}
