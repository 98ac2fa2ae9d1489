//! `kefu test`: replays transcript files through the brain with a
//! throw-away store; exit 1 on any failure, with what the bot really said.

use std::path::{Path, PathBuf};

use crate::app::App;
use crate::brain::Bot;
use crate::diag::SourceFile;
use crate::store::SledStore;
use crate::ticket::Sla;
use crate::transcript;

/// Where transcripts live when no file is named.
pub const DEFAULT_DIR: &str = "tests/transcripts";

fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let defaults = [PathBuf::from(DEFAULT_DIR)];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "txt"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn read(path: &Path) -> anyhow::Result<SourceFile> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(SourceFile::new(
        path.display().to_string(),
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}

pub fn run(bot: &Bot, paths: &[PathBuf]) -> anyhow::Result<u8> {
    let files = collect(paths)?;
    if files.is_empty() {
        anyhow::bail!("no transcript files found");
    }
    let store = SledStore::temporary()?;
    let app = App {
        bot,
        store: &store,
        sla: Sla::default(),
        desk: Default::default(),
    };
    let (mut conversations, mut failed) = (0, 0);
    let mut next_chat = 1;
    for path in &files {
        let file = read(path)?;
        let parsed = match transcript::parse(&file) {
            Ok(parsed) => parsed,
            Err(problems) => {
                for problem in &problems {
                    println!("{problem}");
                }
                failed += 1;
                continue;
            }
        };
        conversations += parsed.conversations.len();
        let failures = transcript::run(&app, &parsed, next_chat);
        next_chat += parsed.conversations.len() as i64;
        for failure in &failures {
            println!("FAIL {failure}\n");
        }
        failed += failures.len();
        let status = if failures.is_empty() { "ok" } else { "FAILED" };
        println!(
            "{status}: {} ({} conversations)",
            file.path,
            parsed.conversations.len()
        );
    }
    println!(
        "{} files, {conversations} conversations, {failed} failed",
        files.len()
    );
    Ok(if failed == 0 { 0 } else { 1 })
}
