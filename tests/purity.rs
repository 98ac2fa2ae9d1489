//! The core stays pure: no file system, clock, environment, network or async
//! runtime in the modules that decide.

use std::path::Path;

const CORE: &[&str] = &[
    "src/text",
    "src/intent",
    "src/guard",
    "src/diag.rs",
    "src/lang.rs",
    "src/brain",
    "src/dialog",
    "src/ticket",
];
const FORBIDDEN: &[&str] = &[
    "std::fs",
    "std::env",
    "std::net",
    "std::time::SystemTime",
    "Instant::now",
    "tokio",
    "teloxide",
    "sled",
    "std::process",
];

fn rust_files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

#[test]
fn core_modules_do_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for part in CORE {
        rust_files(&root.join(part), &mut files);
    }
    assert!(files.len() >= 10, "core files found: {files:?}");
    let mut offences = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Tests inside a core file may use the file system.
        let code = text.split("#[cfg(test)]").next().unwrap();
        for word in FORBIDDEN {
            if code.contains(word) {
                offences.push(format!("{} names {word}", file.display()));
            }
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
}

#[test]
fn only_the_store_imports_sled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 20);
    for file in files {
        if file.starts_with(root.join("src/store")) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("sled::") && !text.contains("use sled"),
            "{} imports sled; only src/store may",
            file.display()
        );
    }
}

#[test]
fn only_the_telegram_adapter_imports_teloxide() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for file in files {
        if file.starts_with(root.join("src/telegram")) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("teloxide::") && !text.contains("use teloxide"),
            "{} names teloxide; only src/telegram may",
            file.display()
        );
    }
}
