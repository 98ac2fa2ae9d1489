//! The phishing screen on agents' replies, measured on a written corpus:
//! `tests/data/agent_phishing.txt` (replies that must be blocked) and
//! `tests/data/agent_clean.txt` (ordinary replies, including warnings
//! about phishing, that must go through). Recall must be at least 99%
//! and false positives at most 1%; every miss and false positive is
//! printed.

use kefu::guard::{check_agent_reply_with, AgentReplyPolicy};

fn rows(name: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

fn has_han(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn phishing_recall_and_false_positives() {
    let domains = vec!["example-exchange.com".to_string()];
    let staff = vec!["@ExampleExchangeSupport".to_string()];
    let policy = AgentReplyPolicy {
        official_domains: &domains,
        staff_handles: &staff,
    };
    let phishing = rows("agent_phishing.txt");
    let clean = rows("agent_clean.txt");
    assert!(phishing.len() >= 300, "{} phishing rows", phishing.len());
    assert!(clean.len() >= 300, "{} clean rows", clean.len());
    for (set, what) in [(&phishing, "phishing"), (&clean, "clean")] {
        let zh = set.iter().filter(|r| has_han(r)).count();
        assert!(
            zh >= 100 && set.len() - zh >= 100,
            "{what}: {zh} zh rows of {}",
            set.len()
        );
    }

    let mut missed = Vec::new();
    for row in &phishing {
        if check_agent_reply_with(row, &policy).is_empty() {
            missed.push(row);
        }
    }
    let mut false_positives = Vec::new();
    for row in &clean {
        let problems = check_agent_reply_with(row, &policy);
        if !problems.is_empty() {
            false_positives.push((row, problems));
        }
    }
    let recall = 1.0 - missed.len() as f64 / phishing.len() as f64;
    let fp_rate = false_positives.len() as f64 / clean.len() as f64;
    println!(
        "agent phishing screen: recall {:.2}% ({} of {} blocked), false positives {:.2}% ({} of {})",
        recall * 100.0,
        phishing.len() - missed.len(),
        phishing.len(),
        fp_rate * 100.0,
        false_positives.len(),
        clean.len()
    );
    for row in &missed {
        println!("MISSED: {row}");
    }
    for (row, problems) in &false_positives {
        let why: Vec<&str> = problems.iter().map(|p| p.detail.as_str()).collect();
        println!("FALSE POSITIVE: {row}\n    {}", why.join("\n    "));
    }
    assert!(recall >= 0.99, "recall {recall:.4}");
    assert!(fp_rate <= 0.01, "false positives {fp_rate:.4}");
}
