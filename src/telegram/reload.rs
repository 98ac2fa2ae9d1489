//! Hot reload: the intents and dialogs directories are checked every
//! second (file names, sizes, modification times); a change that has
//! stayed put for a second, or SIGHUP, loads the pack again. The new pack
//! goes live only if it loads cleanly; otherwise the old one keeps serving
//! and the problems are logged (and posted to the agents' group). A
//! supervisor's `/reload` in Telegram forces one and is told how it went.
//! Sessions continue: the brain restarts a dialog politely when the node
//! it waited on is gone.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};

use super::Shared;
use crate::admin::bump;
use crate::pack::{self, LoadError};
use crate::store::Pending;

type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

fn fingerprint(dirs: &[&Path]) -> Fingerprint {
    let mut files = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if let Ok(meta) = entry.metadata() {
                files.push((entry.path(), meta.len(), meta.modified().ok()));
            }
        }
    }
    files.sort();
    files
}

async fn current(shared: &Arc<Shared>) -> Fingerprint {
    let dirs = (shared.intents.clone(), shared.dialogs.clone());
    tokio::task::spawn_blocking(move || fingerprint(&[&dirs.0, &dirs.1]))
        .await
        .unwrap_or_default()
}

/// Watches until `stop`.
pub async fn watch(
    shared: Arc<Shared>,
    mut requests: mpsc::Receiver<Option<i64>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut loaded = current(&shared).await;
    let mut previous = loaded.clone();
    loop {
        let forced = tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => None,
            Some(report) = requests.recv() => Some(report),
            _ = stop.wait_for(|s| *s) => return,
        };
        let now = current(&shared).await;
        // Editors write in several steps: wait until a change holds still.
        let settled = now == previous && now != loaded;
        previous = now.clone();
        if forced.is_some() || settled {
            loaded = now;
            reload(&shared, forced.flatten()).await;
        }
    }
}

/// Loads the pack again; `report`: the chat that asked, told the outcome.
async fn reload(shared: &Arc<Shared>, report: Option<i64>) {
    let inputs = (
        shared.intents.clone(),
        shared.dialogs.clone(),
        shared.compile.clone(),
        shared.config.brain_settings(),
    );
    let result = tokio::task::spawn_blocking(move || {
        pack::load_bot(&inputs.0, &inputs.1, inputs.2, inputs.3)
    })
    .await;
    let problems: Vec<String> = match result {
        Ok(Ok(loaded)) => {
            let text = format!(
                "✅ Pack reloaded: {} intents, {} dialogs, {} warning(s).",
                loaded.bot.intents.intents().len(),
                loaded.bot.dialogs.len(),
                loaded.warnings.len()
            );
            shared.pack.store(Arc::new(loaded.bot));
            bump(&shared.metrics.reloads);
            tracing::info!(warnings = loaded.warnings.len(), "pack reloaded");
            if let Some(chat) = report {
                super::desk::push_and_send(shared, vec![Pending::text(chat, text)]).await;
            }
            return;
        }
        Ok(Err(LoadError::Invalid(problems))) => problems.iter().map(ToString::to_string).collect(),
        Ok(Err(e)) => vec![format!("{:#}", anyhow::Error::from(e))],
        Err(e) => vec![e.to_string()],
    };
    bump(&shared.metrics.reload_errors);
    for problem in &problems {
        tracing::warn!("{problem}");
    }
    tracing::warn!(
        problems = problems.len(),
        "pack reload refused; the old pack keeps serving"
    );
    let mut text = format!(
        "⚠️ kefu: the new pack was refused ({} problem(s)); the old one keeps serving.\n",
        problems.len()
    );
    for problem in problems.iter().take(10) {
        text.push_str(problem);
        text.push('\n');
    }
    let mut chats: Vec<i64> = shared.config.agents_group.into_iter().collect();
    chats.extend(report.filter(|chat| !chats.contains(chat)));
    let messages = chats
        .into_iter()
        .map(|chat| Pending::text(chat, text.as_str()))
        .collect();
    super::desk::push_and_send(shared, messages).await;
}
