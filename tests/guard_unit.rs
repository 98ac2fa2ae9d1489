//! Unit tests for `kefu::guard`: one group per secret kind, context
//! decisions, redaction text, character offsets, agent-reply checks and link
//! checks.

use kefu::guard::*;
use kefu::lang::Lang;

const HEX: &str = "3f9a8b7c6d5e4f30a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";
/// A valid 12-word English mnemonic (the BIP-39 all-zero test vector).
const SEED: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn none() -> ScanContext {
    ScanContext::default()
}

fn kinds(text: &str, ctx: &ScanContext) -> Vec<SecretKind> {
    scan(text, ctx).into_iter().map(|f| f.kind).collect()
}

fn found(text: &str) -> Vec<String> {
    scan(text, &none())
        .into_iter()
        .map(|f| text.chars().skip(f.start).take(f.end - f.start).collect())
        .collect()
}

fn off() -> Vec<String> {
    vec!["binance.com".to_string()]
}

// ------------------------------------------------------------ seed phrases

#[test]
fn seed_plain_numbered_and_mixed_case() {
    assert_eq!(found(&format!("my seed: {SEED}")), vec![SEED]);
    let numbered: String = SEED
        .split(' ')
        .enumerate()
        .map(|(i, w)| format!("{}. {w}\n", i + 1))
        .collect();
    assert_eq!(kinds(&numbered, &none()), vec![SecretKind::SeedPhrase]);
    let upper = SEED.to_uppercase().replace(' ', ", ");
    assert_eq!(kinds(&upper, &none()), vec![SecretKind::SeedPhrase]);
    let zh = format!("客服你好我的助记词是{SEED}，帮我看看");
    assert_eq!(found(&zh), vec![SEED]);
}

#[test]
fn seed_odd_count_needs_context_only_when_typo_bridged() {
    // 13 wordlist words in a row are a seed even without a label.
    let thirteen = format!("{SEED} zoo");
    assert_eq!(kinds(&thirteen, &none()), vec![SecretKind::SeedPhrase]);
    // A typo splits the run: with a seed label it is still caught…
    let typo = "abandon abandon abandon abandon abandonn abandon abandon abandon abandon abandon abandon about";
    assert_eq!(
        kinds(&format!("mnemonic: {typo}"), &none()),
        vec![SecretKind::SeedPhrase]
    );
    // …without one it is not (too weak a signal on its own).
    assert!(scan(typo, &none()).is_empty());
}

#[test]
fn seed_ordinary_english_is_not_a_seed() {
    for s in [
        "Thank you very much for the help, I have been waiting for a long time and I really appreciate it.",
        "Can you help me understand why the price of my order changed before it was filled?",
        "what is a seed phrase? I lost my seed phrase and my wallet is empty",
        "my seed phrase has 12 words, is that normal?",
    ] {
        assert!(scan(s, &none()).is_empty(), "{s}");
    }
}

#[test]
fn seed_chinese_separated_and_contiguous() {
    let words: Vec<&str> =
        bip39::Mnemonic::from_entropy_in(bip39::Language::SimplifiedChinese, &[0x5a; 16])
            .unwrap()
            .words()
            .collect();
    let contiguous = words.concat();
    let spaced = words.join(" ");
    let spaced = spaced.as_str();
    assert_eq!(kinds(spaced, &none()), vec![SecretKind::SeedPhrase]);
    assert_eq!(
        found(&format!("我的助记词是{contiguous}")),
        vec![contiguous.clone()]
    );
    // Without a seed label a contiguous run is just Chinese text.
    assert!(scan(&contiguous, &none()).is_empty());
    assert!(scan("我的助记词是不是被人偷了我现在很着急怎么办", &none()).is_empty());
}

// ------------------------------------------------------------ private keys

#[test]
fn private_key_needs_key_context() {
    assert_eq!(found(&format!("我的私钥是 {HEX}")), vec![HEX]);
    assert_eq!(
        found(&format!("private key: 0x{HEX}")),
        vec![format!("0x{HEX}")]
    );
    assert_eq!(
        kinds(&format!("{HEX} 这是我的私钥"), &none()),
        vec![SecretKind::PrivateKey]
    );
    assert_eq!(
        kinds(&format!("秘钥是{HEX}"), &none()),
        vec![SecretKind::PrivateKey]
    );
    // A bare 64-hex string may be either: hidden as a key unless a dialog
    // asked for a hash or the message talks about a transfer.
    assert_eq!(kinds(HEX, &none()), vec![SecretKind::PrivateKey]);
    assert!(scan(HEX, &ScanContext::expecting(Expected::TxHash)).is_empty());
    assert!(scan(&format!("{HEX} is my deposit"), &none()).is_empty());
    assert!(scan(&format!("TXID: {HEX}"), &none()).is_empty());
    assert!(scan(
        &format!("my private key is safe, here is the tx hash {HEX}"),
        &none()
    )
    .is_empty());
}

#[test]
fn txid_context_decides_but_private_key_label_wins() {
    let tx = ScanContext::expecting(Expected::TxHash);
    assert!(scan(HEX, &tx).is_empty());
    assert!(scan(&format!("here it is {HEX}"), &tx).is_empty());
    // A weak "key:" label defers to the dialog asking for a tx hash…
    assert!(scan(&format!("key: {HEX}"), &tx).is_empty());
    assert_eq!(
        kinds(&format!("key: {HEX}"), &none()),
        vec![SecretKind::PrivateKey]
    );
    // …but after 私钥 / private key it is a secret regardless.
    assert_eq!(
        kinds(&format!("私钥 {HEX}"), &tx),
        vec![SecretKind::PrivateKey]
    );
    assert_eq!(
        kinds(&format!("private key {HEX}"), &tx),
        vec![SecretKind::PrivateKey]
    );
}

#[test]
fn wif_and_xprv_need_no_context() {
    let wif = "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ";
    let wifc = "L1aW4aubDFB7yfras2S1mN3bqg9nwySY8nkoLmJebSLD5BWv3ENZ";
    let xprv = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";
    assert_eq!(found(&format!("{wif} and {wifc}")), vec![wif, wifc]);
    assert_eq!(found(xprv), vec![xprv]);
    // Public keys and addresses are not secrets.
    let xpub = "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8";
    assert!(scan(xpub, &none()).is_empty());
}

#[test]
fn addresses_are_not_secrets() {
    for a in [
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8",
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    ] {
        assert!(
            scan(&format!("my address is {a}"), &none()).is_empty(),
            "{a}"
        );
        assert!(
            scan(&format!("私钥对应的地址 {a}"), &none()).is_empty(),
            "{a}"
        );
    }
}

// ---------------------------------------------------------------- API keys

#[test]
fn api_keys_with_context() {
    let key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    let sec = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    let msg = format!("API Key: {key}\nSecret Key: {sec}");
    assert_eq!(
        kinds(&msg, &none()),
        vec![SecretKind::ApiKey, SecretKind::ApiKey]
    );
    let uuid = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    assert_eq!(found(&format!("okx api key {uuid}")), vec![uuid]);
    assert_eq!(
        kinds(&format!("API密钥：{key}"), &none()),
        vec![SecretKind::ApiKey]
    );
    // Without context a random token is left alone (could be anything).
    assert!(scan(key, &none()).is_empty());
    // Names and reference ids near "API key" are not secrets.
    assert!(scan("the API key label is my_trading_bot_2024", &none()).is_empty());
    assert!(scan(
        &format!("request id {uuid} after my API key stopped working"),
        &none()
    )
    .is_empty());
}

// --------------------------------------------------------------- passwords

#[test]
fn passwords_redact_only_the_token() {
    assert_eq!(found("my password is Hunter2024!"), vec!["Hunter2024!"]);
    assert_eq!(found("pw: qazwsx123"), vec!["qazwsx123"]);
    assert_eq!(found("pass: Moon#Lambo88"), vec!["Moon#Lambo88"]);
    assert_eq!(found("密码是abc12345请帮我看看"), vec!["abc12345"]);
    assert_eq!(found("密码：Zx9!kLm2"), vec!["Zx9!kLm2"]);
    assert_eq!(found("登录密码 Qwe!2345"), vec!["Qwe!2345"]);
    assert_eq!(found("password = s3cr3tP@ss"), vec!["s3cr3tP@ss"]);
    assert_eq!(found("password is 'monkey_2020'"), vec!["monkey_2020"]);
}

#[test]
fn password_talk_is_not_a_password() {
    for s in [
        "I forgot my password",
        "my password is wrong",
        "my password is not working",
        "password reset email never arrives",
        "the password must be 8-32 characters",
        "密码错误三次被锁了",
        "密码是几位数",
        "我的密码是8位",
        "password: ********",
        "please reset your password in the app",
    ] {
        assert!(scan(s, &none()).is_empty(), "{s}");
    }
}

// ---------------------------------------------------------- one-time codes

#[test]
fn one_time_codes_near_labels() {
    assert_eq!(found("here's my 2fa code 482913 pls fix"), vec!["482913"]);
    assert_eq!(found("谷歌验证码是102938"), vec!["102938"]);
    assert_eq!(found("660431 is the sms code"), vec!["660431"]);
    assert_eq!(
        found("my google authenticator shows 771 204"),
        vec!["771 204"]
    );
    assert_eq!(found("验证码：４８２９１３"), vec!["４８２９１３"]);
    assert_eq!(found("UID 12345678 谷歌验证码 482913"), vec!["482913"]);
}

#[test]
fn ids_amounts_and_phones_are_not_codes() {
    for s in [
        "order 12345678",
        "UID 12345678",
        "转了 5000 USDT",
        "验证码收不到，订单号 12345678",
        "error code 10001 when I withdraw",
        "referral code 48291733",
        "手机尾号 5678 收不到短信",
        "验证码发到 138****5678 了",
        "sms to +86 138 1234 5678 not arriving",
        "2fa was reset on 2024-05-01",
        "2fa enabled in 2021",
        "the code expired after 60 seconds",
        "memo 104857",
    ] {
        assert!(scan(s, &none()).is_empty(), "{s}");
    }
}

#[test]
fn expected_order_id_uid_amount_suppress_loose_codes() {
    for e in [Expected::OrderId, Expected::Uid, Expected::Amount] {
        let ctx = ScanContext::expecting(e);
        assert!(scan("12345678", &ctx).is_empty());
        // The label is far from the number: with no context it counts…
        let loose = "the sms code thing again, 48213377";
        assert_eq!(kinds(loose, &none()), vec![SecretKind::OneTimeCode]);
        // …but not when we just asked for an id or amount.
        assert!(scan(loose, &ctx).is_empty(), "{e:?}");
        // A label right before the digits still wins.
        assert_eq!(kinds("验证码：583920", &ctx), vec![SecretKind::OneTimeCode]);
    }
}

// ---------------------------------------------------- redaction and offsets

#[test]
fn redaction_text_in_both_languages() {
    let msg = format!("客服你好我的助记词是 {SEED}");
    let zh = redact(&msg, &none(), Lang::Zh);
    assert_eq!(zh.text, "客服你好我的助记词是 [已隐藏: 助记词]");
    let en = redact(&msg, &none(), Lang::En);
    assert_eq!(en.text, "客服你好我的助记词是 [hidden: seed phrase]");
    assert_eq!(
        redact("2fa 482913, password: Abc12345!", &none(), Lang::En).text,
        "2fa [hidden: one-time code], password: [hidden: password]"
    );
    assert_eq!(
        redact(
            "API密钥 vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw",
            &none(),
            Lang::Zh
        )
        .text,
        "API密钥 [已隐藏: API 密钥]"
    );
    assert_eq!(redact("没有秘密", &none(), Lang::Zh).text, "没有秘密");
    assert_eq!(
        placeholder(SecretKind::PrivateKey, Lang::Zh),
        "[已隐藏: 私钥]"
    );
    assert_eq!(
        placeholder(SecretKind::OneTimeCode, Lang::En),
        "[hidden: one-time code]"
    );
}

#[test]
fn offsets_are_characters_in_the_original_text() {
    let msg = "你好，验证码是４８２９１３谢谢";
    let f = scan(msg, &none());
    assert_eq!(
        f,
        vec![Finding {
            kind: SecretKind::OneTimeCode,
            start: 7,
            end: 13
        }]
    );
    let r = redact(msg, &none(), Lang::Zh);
    assert_eq!(r.findings, f);
    assert_eq!(r.text, "你好，验证码是[已隐藏: 验证码]谢谢");
}

#[test]
fn repeated_secret_is_redacted_everywhere() {
    let r = redact(
        "my password is hunter2024 and my email is hunter2024@example.com",
        &none(),
        Lang::En,
    );
    assert!(!r.text.contains("hunter2024"), "{}", r.text);
    assert_eq!(r.findings.len(), 2);
}

#[test]
fn labels_and_kinds() {
    let pairs = [
        (SecretKind::SeedPhrase, "助记词", "seed phrase"),
        (SecretKind::PrivateKey, "私钥", "private key"),
        (SecretKind::ApiKey, "API 密钥", "API key"),
        (SecretKind::Password, "密码", "password"),
        (SecretKind::OneTimeCode, "验证码", "one-time code"),
    ];
    for (k, zh, en) in pairs {
        assert_eq!(k.label(Lang::Zh), zh);
        assert_eq!(k.label(Lang::En), en);
    }
    let r = redact(
        "验证码 482913 私钥 3f9a8b7c6d5e4f30a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718",
        &none(),
        Lang::Zh,
    );
    assert_eq!(
        r.kinds(),
        vec![SecretKind::PrivateKey, SecretKind::OneTimeCode]
    );
}

// ---------------------------------------------------------------- warnings

#[test]
fn warnings_give_per_kind_actions() {
    assert_eq!(warning(&[], Lang::En), "");
    let en = warning(&SecretKind::ALL, Lang::En);
    for needle in [
        "never",
        "new wallet",
        "change",
        "reset your 2FA",
        "revoke",
        "staff will never ask",
    ] {
        assert!(en.contains(needle), "{needle} missing in {en}");
    }
    let zh = warning(&SecretKind::ALL, Lang::Zh);
    for needle in ["新钱包", "修改密码", "重置二次验证", "删除", "绝不会"] {
        assert!(zh.contains(needle), "{needle} missing in {zh}");
    }
    let one = warning(
        &[SecretKind::OneTimeCode, SecretKind::OneTimeCode],
        Lang::En,
    );
    assert!(one.contains("one-time code") && !one.contains("Seed phrase:"));
    assert_eq!(one.matches("\n• ").count(), 1);
}

// ------------------------------------------------------------ agent replies

#[test]
fn agent_reply_asking_for_secrets_is_blocked() {
    let cases = [
        ("please send me your 2FA code", SecretKind::OneTimeCode),
        ("请提供您的验证码", SecretKind::OneTimeCode),
        ("把助记词发给我", SecretKind::SeedPhrase),
        ("tell me your password", SecretKind::Password),
        (
            "To verify your wallet, we need your seed phrase.",
            SecretKind::SeedPhrase,
        ),
        (
            "Don't worry. Just share your private key and we will recover it.",
            SecretKind::PrivateKey,
        ),
        (
            "What's your Google Authenticator code?",
            SecretKind::OneTimeCode,
        ),
        (
            "Please type your password here so I can check",
            SecretKind::Password,
        ),
        ("您的登录密码是多少？", SecretKind::Password),
        ("验证码发我一下", SecretKind::OneTimeCode),
        ("请告诉我您的资金密码", SecretKind::Password),
        ("Can you give me your API secret", SecretKind::ApiKey),
        ("your 2fa code please", SecretKind::OneTimeCode),
        (
            "Please provide the 6-digit SMS code you just received.",
            SecretKind::OneTimeCode,
        ),
        (
            "For verification, reply with your 12 words.",
            SecretKind::SeedPhrase,
        ),
        ("麻烦把谷歌验证码报一下", SecretKind::OneTimeCode),
        ("请把私钥复制给我，我帮您恢复", SecretKind::PrivateKey),
        (
            "Send the code here and I will unlock your account",
            SecretKind::OneTimeCode,
        ),
    ];
    for (reply, kind) in cases {
        let p = check_agent_reply(reply, &off());
        assert!(
            p.iter()
                .any(|x| x.kind == AgentReplyProblemKind::AsksForSecret(kind)),
            "{reply}: {p:?}"
        );
    }
}

#[test]
fn agent_reply_normal_advice_is_allowed() {
    for reply in [
        "never share your password with anyone",
        "请勿向任何人透露验证码",
        "please send the TXID",
        "please reset your password in the app",
        "Please enter the verification code in the app, not here.",
        "请在App中输入验证码完成提现",
        "Staff will never ask for your seed phrase or 2FA code.",
        "If you did not receive the SMS code, please tell me your UID.",
        "请提供您的UID和订单号",
        "请提供验证码收不到的截图",
        "Please let me know whether you received the verification code.",
        "Please send us a screenshot of the error page.",
        "不要把助记词告诉任何人，包括客服。",
        "Your password must be at least 8 characters.",
        "Please share your referral code with friends to earn rewards.",
        "You can reset 2FA at https://www.binance.com/en/support/faq",
        "Please provide the verification code you received by SMS in the app.",
        "What is your UID and the code shown in the error message?",
        "请在官方App内输入短信验证码",
        "Please tell us your UID, the network you used and the TXID.",
        "We will never ask for your password, 2FA codes or seed phrase.",
    ] {
        let p = check_agent_reply(reply, &off());
        assert!(p.is_empty(), "{reply}: {p:?}");
    }
}

#[test]
fn agent_reply_with_secret_or_bad_link_is_blocked() {
    let p = check_agent_reply(
        "Your code is 482913, enter it at https://binance-support.com",
        &off(),
    );
    assert!(p
        .iter()
        .any(|x| x.kind == AgentReplyProblemKind::ContainsSecret(SecretKind::OneTimeCode)));
    assert!(p
        .iter()
        .any(|x| x.kind == AgentReplyProblemKind::UnofficialLink));
    // The detail never repeats the secret.
    assert!(p.iter().all(|x| !x.detail.contains("482913")));
    let p = check_agent_reply("See https://example.org/help", &off());
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].kind, AgentReplyProblemKind::UnofficialLink);
}

// ------------------------------------------------------------------ links

fn reason(text: &str) -> Vec<(String, LinkReason)> {
    check_links(text, &off())
        .into_iter()
        .map(|w| (w.domain, w.reason))
        .collect()
}

fn look_alike(text: &str) {
    let r = reason(text);
    assert_eq!(r.len(), 1, "{text}: {r:?}");
    assert_eq!(
        r[0].1,
        LinkReason::LookAlike {
            official: "binance.com".into()
        },
        "{text}"
    );
}

#[test]
fn official_domains_and_subdomains_pass() {
    for t in [
        "https://www.binance.com/en/support",
        "help.binance.com/faq/123",
        "请访问binance.com查询",
        "BINANCE.COM",
        "https://accounts.binance.com:443/login?x=1",
        "support@binance.com",
        "email me at alice@gmail.com",
    ] {
        assert!(check_links(t, &off()).is_empty(), "{t}");
    }
}

#[test]
fn look_alikes_of_each_kind() {
    look_alike("https://bіnance.com/login"); // Cyrillic і
    look_alike("https://binаnce.com"); // Cyrillic а
    look_alike("http://binαnce.com"); // Greek α
    look_alike("https://xn--bnance-bwa.com"); // punycode for bînance
    look_alike("www.blnance.com"); // l for i
    look_alike("b1nance.com/airdrop"); // 1 for i
    look_alike("https://binanc3.com"); // 3 for e
    look_alike("binance-support.com"); // extra words
    look_alike("https://login-binance.com/"); // extra words before
    look_alike("binance.com.evil.io/a"); // official name as a subdomain
    look_alike("https://secure-binance.com.verify-account.xyz"); // both
    look_alike("www.binance.co"); // wrong TLD
    look_alike("binance.net"); // wrong TLD
    look_alike("https://binnance.com"); // doubled letter
    look_alike("bianance.com"); // edit distance
    look_alike("https://binance.com@evil.io/login"); // userinfo trick
    look_alike("mybinancewallet.io"); // embedded
    look_alike("scam@blnance.com"); // look-alike e-mail domain is reported
}

#[test]
fn other_links_are_not_official() {
    let r = reason("go to https://example.org/x or t.me/some_group and www.google.com");
    assert_eq!(r.len(), 3, "{r:?}");
    assert!(r.iter().all(|(_, why)| *why == LinkReason::NotOfficial));
    // Not links: file names, versions, abbreviations.
    assert!(check_links("report_2024.pdf v1.2.3 e.g. Thanks.So", &off()).is_empty());
}

#[test]
fn link_warning_text_both_languages() {
    let w = check_links("blnance.com and example.org", &off());
    let en = link_warning_text(&w, Lang::En);
    assert!(en.contains("blnance.com") && en.contains("imitates binance.com"));
    assert!(en.contains("example.org") && en.contains("not an official"));
    let zh = link_warning_text(&w, Lang::Zh);
    assert!(zh.contains("冒充 binance.com") && zh.contains("非官方"));
    assert_eq!(link_warning_text(&[], Lang::Zh), "");
}

#[test]
fn agent_reply_screen_names_each_kind_and_sees_through_spelling() {
    use kefu::guard::{check_agent_reply_with, AgentReplyPolicy};
    let domains = off();
    let staff = vec!["@OfficialDesk".to_string()];
    let policy = AgentReplyPolicy {
        official_domains: &domains,
        staff_handles: &staff,
    };
    let kinds = |text: &str| -> Vec<AgentReplyProblemKind> {
        check_agent_reply_with(text, &policy)
            .into_iter()
            .map(|p| p.kind)
            .collect()
    };
    let cases = [
        (
            "Please send me the p r i v a t e  k e y",
            AgentReplyProblemKind::AsksForSecret(SecretKind::PrivateKey),
        ),
        (
            "請把助 記 詞發給我",
            AgentReplyProblemKind::AsksForSecret(SecretKind::SeedPhrase),
        ),
        (
            "ｓｅｎｄ ｍｅ ｔｈｅ ｓ３３ｄ ｐｈｒａｓｅ",
            AgentReplyProblemKind::AsksForSecret(SecretKind::SeedPhrase),
        ),
        (
            "We just sent you a code. What is it?",
            AgentReplyProblemKind::AsksForSecret(SecretKind::OneTimeCode),
        ),
        ("请先缴纳保证金才能解冻", AgentReplyProblemKind::MovesFunds),
        (
            "Move your coins to our escrow wallet.",
            AgentReplyProblemKind::MovesFunds,
        ),
        ("加我VX kf_8899", AgentReplyProblemKind::OffPlatformContact),
        (
            "Message me at @desk_helper_99",
            AgentReplyProblemKind::OffPlatformContact,
        ),
        (
            "请下载向日葵，我远程帮您",
            AgentReplyProblemKind::RemoteAccess,
        ),
    ];
    for (text, kind) in cases {
        assert!(kinds(text).contains(&kind), "{text}: {:?}", kinds(text));
    }
    // Staff handles, negations, warnings and ordinary requests pass.
    for text in [
        "Our official account is @OfficialDesk, and https://t.me/OfficialDesk.",
        "Don't worry, we never ask for your seed phrase.",
        "我们不会索要您的密码，也不会让您转账到安全账户",
        "Please send the TXID and your UID.",
        "Do not send anyone the code.",
    ] {
        assert!(kinds(text).is_empty(), "{text}: {:?}", kinds(text));
    }
}
