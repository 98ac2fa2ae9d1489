//! Secret detectors: seed phrases, private keys, API keys, passwords and
//! one-time codes.
//!
//! Every detector is a linear pass (a char loop or a `regex` search, which
//! is linear-time by construction) over the folded text, so `scan` stays
//! bounded on any input without having to cut it — and therefore never
//! leaves a secret unredacted past some cut-off.
//!
//! The hard part is not finding secrets but *not* flagging the numbers and
//! hashes a support chat is full of (order ids, UIDs, TXIDs, amounts). The
//! rule used throughout is "the nearest label decides": a token is judged by
//! the label right before it (`订单号`, `UID`, `TXID`, `私钥`, `2FA`), see
//! [`nearest_label`].

use std::cell::OnceCell;
use std::collections::HashSet;
use std::sync::LazyLock;

use bip39::{Language, Mnemonic};
use regex::Regex;

use super::text::{is_han, is_wide_punct, nearest_label, Hits, Prepared};
use super::{Expected, ScanContext, SecretKind};

/// A raw detection, in char offsets of the scanned text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cand {
    pub kind: SecretKind,
    pub start: usize,
    pub end: usize,
}

/// Seed phrases come in these lengths (BIP-39).
pub(crate) const VALID_SEED_LENS: [usize; 5] = [12, 15, 18, 21, 24];

fn re(p: &str) -> Regex {
    // Patterns are compile-time constants covered by tests; a failure here is
    // a programming error caught by the first test run, not a runtime input.
    Regex::new(p).expect("guard: invalid built-in regex")
}

// ---------------------------------------------------------------- labels --

pub(crate) static SEED_CTX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:mnemonics?|seed(?:[\s-]*(?:phrases?|words?))?|(?:recovery|backup|secret|wallet)[\s-]*(?:phrases?|words|sentence)|(?:12|15|18|21|24)[\s-]*words?)(?-u:\b)|助记词|助記詞|种子词|種子詞|恢复词|恢复短语|备份词|钱包词",
    )
});
pub(crate) static PRIV_CTX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:private[\s_-]*keys?|priv[\s_-]*keys?|privkey|prv[\s_-]*keys?|pk|wif)(?-u:\b)|私钥|私鑰",
    )
});
pub(crate) static SECRETKEY_CTX: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)(?-u:\b)(?:secret[\s_-]*keys?|secretkey)(?-u:\b)|密钥|密鑰|秘钥|秘鑰")
});
pub(crate) static API_CTX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:api[\s_-]*(?:keys?|secrets?|secret[\s_-]*keys?|tokens?|passphrase)|apikey|apisecret|x-mbx-apikey|access[\s_-]*keys?|secret)(?-u:\b)|api\s*(?:密钥|秘钥|私钥|密鑰)",
    )
});
static KEY_CTX: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)(?-u:\b)keys?(?-u:\b)"));
/// Reference numbers: a long token right after these is an id, not a key.
static REF_CTX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:(?:request|req|trace|order|client|ticket|case|error|message|msg|correlation|session|withdrawal|deposit|user|payment|reference|ref)[\s_-]*(?:ids?|no|numbers?)|uid|ids?|orders?|ticket|invoice|reference)(?-u:\b)|订单号?|工单|编号|单号|流水号|用户|邀请码|推荐码",
    )
});
pub(crate) static TX_CTX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:tx[\s_-]*ids?|txn?[\s_-]*hash(?:es)?|txn?|txids?|hash(?:es)?|transaction[\s_-]*(?:ids?|hash(?:es)?)|hash[\s_-]*id)(?-u:\b)|交易哈希|哈希|交易id|交易ID|交易号|转账记录|区块浏览器",
    )
});
static ADDR_CTX: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)(?-u:\b)(?:address(?:es)?|addr|memo|tag|contract)(?-u:\b)|地址|合约")
});
static OTP_CTX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:2fa|2-fa|mfa|otp|totp|sms|codes?|authenticator|authy|google|g-?auth|ga)(?-u:\b)|验证码|驗證碼|校验码|动态码|动态口令|安全码|确认码|短信|谷歌|验证",
    )
});
/// Labels that mark a number as *not* a one-time code.
static NEG_CTX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:(?:error|err|status|referral|ref|invite|invitation|promo|promotion|coupon|zip|postal|post|area|country|swift|bank|discount|gift|voucher|reward|bonus|source|qr|activation|tracking|product|region|sort|order|payment|transaction|tx|withdrawal|deposit|ticket|reference|memo|tag|fund)[\s_-]*codes?|codes?[\s_-]*names?|orders?|memo|tag|destination[\s_-]*tag|uid|user[\s_-]*id|ids?|no|nos|number|num|account|acct|ticket|case|reference|invoice|phone|mobile|tel|amount|balance|deposit(?:ed)?|withdraw(?:al|n|ed)?|price|fees?|limit|usdt|usdc|btc|eth|txid|block|height|version|port|year|since|total|transfer(?:red)?|bought|sold|paid|lost)(?-u:\b)|订单|单号|编号|用户|账号|账户|工单|手机|电话|号码|尾号|金额|余额|充值|提现|提币|转了|转账|价格|价|手续费|额度|限额|邀请码|推荐码|优惠码|错误码|错误代码|状态码|错误|报错|提示|备注|标签|区号|邮编|卡号|版本|区块|高度|共|总共|约|买了|卖了|损失",
    )
});
/// A unit right after a number makes it an amount/duration, not a code.
static UNIT_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(?:(?:usdt|usdc|busd|fdusd|btc|eth|bnb|trx|sol|xrp|doge|ton|ada|u|usd|cny|rmb|eur|gbp|hkd|jpy|krw|k|w|m|min|mins|minutes?|hours?|hrs?|days?|seconds?|secs?|times|characters?|chars?|digits?|letters?|symbols?|dollars?|bucks|coins?|tokens?|shares?|pcs)(?-u:\b)|[元块刀币个枚张%次天秒年月日号位笔万千百亿倍楼层岁条]|小时|分钟|美元|美金|人民币|字符)",
    )
});

// ------------------------------------------------------------- passwords --

static EN_PW: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:(?:login|log-in|account|trading|trade|fund|funding|funds|withdrawal|withdraw|email|wallet|exchange|security|my|new|old|current|actual|real|the)\s+)?(password|passwd|passwort|passcode|passphrase|p@ssw[o0]rd|passw0rd|pa55w[o0]rd|pa\$\$w[o0]rd|p@ss|pswd|psw|pword|pwd|pw|pass|pin)(?-u:\b)(?:\s+(?:for|on|of|to|at)\s+(?:my\s+|the\s+)?[a-z0-9._@-]{1,30})?(?:\s+(?:that\s+)?(?:i|we)\s+(?:use|used|have|set|chose|picked))?(?:'s)?((?:\s*(?:(?:is|was|would\s+be|will\s+be)(?-u:\b)|=|:|->|=>)){1,2}\s*(?:(?:now|still|just|actually)\s+)?|\s+)",
    )
});
static ZH_PW: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:密码|密碼|口令|pin码)(?:\s*(?:是|为|為|:|=|就是|改成了|改成|改为|设置为|设置成|设成了|设成|设的是|写的是|用的是|应该是|其实是|是不是|也是|还是|都是))*\s*",
    )
});

/// `login: a@b.com / Hk29!vLw`, `a@b.com:Hk29!vLw`, `账号 alice88 / Hk29!vLw`:
/// an account name, a separator, then (judged by [`password_token`]) the
/// password.
static LOGIN_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:(?:(?-u:\b)(?:login|log-in|sign-in|signin|account|acct|user(?:name)?|id)|账号|帳號|帐号|账户|帳戶|帐户|用户名|用戶名|登录|登錄)\s*[:：=]?\s*[a-z0-9._%+@-]{2,64}\s*(?:[/|]|,|，)\s*|[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}(?:\s*(?:[/|:]|,|，)\s*|\s+))",
    )
});

/// Words that follow "password is" in ordinary sentences and are therefore
/// not the password itself ("my password is wrong", "密码 reset 不了").
static PW_STOP: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    "not no wrong incorrect correct right invalid expired too very so really definitely the a an my your his her our their its same different changed change reset locked blocked ok okay fine good working works work weak strong long short required missing lost forgotten forgot still also being been saved stored set updated case sensitive case-sensitive and or but because for in on at to it that this what which how why when where who accepted rejected yes empty blank new old mine there here never always please pls plz hidden secret safe secure encrypted needed need needs unknown gone compromised leaked stolen hacked fixed broken recovery manager protected protection field requirements requirement policy strength length characters chars digits letters less more least most only just now actually probably maybe perhaps something anything nothing none null n/a same identical similar valid verified shown visible displayed sent emailed mandatory optional below above following attached like as with from by of if then else until after before during about again once twice even over under into enough entered typed bad ur u you i me we they he she them us him is was are were be will would can could should must might may do does did doesn't don't didn't isn't wasn't can't cannot won't doesnt dont didnt isnt wasnt cant wont used using use changing resetting entering typing expiring expiry expires correctly successfully immediately asap urgent already recently yesterday today tomorrow help problem issue error failed fail failing password passwords passwd pwd pass passcode pin code app apps google gmail email mail sms 2fa okx binance bybit huobi wallet account login id uid kyc otp api kefu support staff anyone someone everyone required. xxxx xxxxx xxxxxx xxxxxxxx 1234 12345 123456 abcd"
        .split_whitespace()
        .collect()
});

// ------------------------------------------------------------------ tokens --

// --------------------------------------------------------------- wordlists --

/// English words packed into a `u64` (≤ 8 ASCII letters), sorted: a lookup
/// is a handful of integer comparisons, which matters because every word
/// of every message is looked up.
static EN_WORDS: LazyLock<Vec<u64>> = LazyLock::new(|| {
    let mut v: Vec<u64> = Language::English
        .word_list()
        .iter()
        .filter_map(|w| pack_word(w.bytes()))
        .collect();
    v.sort_unstable();
    v
});

/// Bitmap over U+4E00..U+9FFF of the Chinese list's characters.
static ZH_WORDS: LazyLock<Vec<u64>> = LazyLock::new(|| {
    let mut bits = vec![0u64; (0xA000 - 0x4E00) / 64];
    for w in Language::SimplifiedChinese.word_list() {
        if let Some(i) = w.chars().next().and_then(zh_index) {
            bits[i / 64] |= 1 << (i % 64);
        }
    }
    bits
});

fn zh_index(c: char) -> Option<usize> {
    (c as usize)
        .checked_sub(0x4E00)
        .filter(|&i| i < 0xA000 - 0x4E00)
}

fn is_zh_word(c: char) -> bool {
    zh_index(c).is_some_and(|i| ZH_WORDS[i / 64] & (1 << (i % 64)) != 0)
}

/// Packs 3–8 ASCII letters, lowercased, into a `u64`.
fn pack_word(bytes: impl Iterator<Item = u8>) -> Option<u64> {
    let mut key = 0u64;
    let mut n = 0;
    for b in bytes {
        if n == 8 || !b.is_ascii_alphabetic() {
            return None;
        }
        key = key << 8 | u64::from(b.to_ascii_lowercase());
        n += 1;
    }
    (n >= 3).then_some(key)
}

fn is_en_key(key: Option<u64>) -> bool {
    key.is_some_and(|k| EN_WORDS.binary_search(&k).is_ok())
}

fn checksum_ok(lang: Language, words: &[String]) -> bool {
    Mnemonic::parse_in_normalized(lang, &words.join(" ")).is_ok()
}

// ------------------------------------------------------------------ labels --

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    Seed,
    Priv,
    SecretKey,
    Api,
    Key,
    Tx,
    Addr,
    Otp,
    Neg,
    Ref,
}

/// Label hits, computed lazily: most messages never need most categories, and
/// this keeps `redact` on ordinary chat lines in the microsecond range.
struct Labels<'a> {
    p: &'a Prepared,
    cells: [OnceCell<Hits<Label>>; 10],
}

impl<'a> Labels<'a> {
    fn new(p: &'a Prepared) -> Self {
        Labels {
            p,
            cells: Default::default(),
        }
    }

    fn get(&self, l: Label) -> &Hits<Label> {
        let (i, rx): (usize, &Regex) = match l {
            Label::Seed => (0, &SEED_CTX),
            Label::Priv => (1, &PRIV_CTX),
            Label::SecretKey => (2, &SECRETKEY_CTX),
            Label::Api => (3, &API_CTX),
            Label::Key => (4, &KEY_CTX),
            Label::Tx => (5, &TX_CTX),
            Label::Addr => (6, &ADDR_CTX),
            Label::Otp => (7, &OTP_CTX),
            Label::Neg => (8, &NEG_CTX),
            Label::Ref => (9, &REF_CTX),
        };
        self.cells[i].get_or_init(|| Hits {
            label: l,
            spans: self.p.spans(rx),
            max_before: (l == Label::Key).then_some(4),
        })
    }

    /// The label governing a key-like token. Order matters on ties: `api key`
    /// must beat the bare `key` that ends at the same place.
    fn key_label(&self, s: usize, e: usize) -> Option<Label> {
        let cats = [
            self.get(Label::Api),
            self.get(Label::Priv),
            self.get(Label::SecretKey),
            self.get(Label::Tx),
            self.get(Label::Addr),
            self.get(Label::Ref),
            self.get(Label::Key),
        ];
        nearest_label(&cats, s, e, 40, 12)
    }
}

// -------------------------------------------------------------- detection --

/// Runs every detector and returns raw (possibly overlapping) candidates.
pub(crate) fn detect(p: &Prepared, ctx: &ScanContext) -> Vec<Cand> {
    let labels = Labels::new(p);
    let mut out = Vec::new();
    seeds(p, &labels, &mut out);
    let (alnum, api) = token_runs(p);
    alnum_tokens(p, &alnum, &labels, ctx, &mut out);
    api_tokens(p, &api, &labels, &mut out);
    passwords(p, &mut out);
    out
}

/// A char span `(start, end)`.
type Span = (usize, usize);

/// Char spans of ASCII tokens, found in one pass (a regex per token class
/// plus offset conversion per match cost more than everything else):
/// - alphanumeric runs (keys, codes);
/// - API-token runs, shaped like `[A-Za-z0-9][A-Za-z0-9_+/-]*[A-Za-z0-9]=*`
///   (UUID-style and base64 secrets). Only those containing `_ + / -` or `=`
///   padding are returned; pure alphanumerics are judged as alnum runs.
fn token_runs(p: &Prepared) -> (Vec<Span>, Vec<Span>) {
    struct ApiRun {
        start: usize,
        /// End of the last alphanumeric char.
        end: usize,
        /// A `_ + / -` was followed by more alphanumerics.
        has_sep: bool,
        /// A `_ + / -` was seen since the last alphanumeric.
        sep_pending: bool,
        /// Trailing `=` count; once > 0 the token can only end.
        pad: usize,
    }
    fn flush(t: &mut Option<ApiRun>, api: &mut Vec<(usize, usize)>) {
        if let Some(r) = t.take() {
            if r.has_sep || r.pad > 0 {
                api.push((r.start, r.end + r.pad));
            }
        }
    }
    let mut alnum = Vec::new();
    let mut api = Vec::new();
    let mut a_start: Option<usize> = None;
    let mut t: Option<ApiRun> = None;
    for (i, c) in p.folded.chars().enumerate() {
        if c.is_ascii_alphanumeric() {
            a_start.get_or_insert(i);
            if t.as_ref().is_some_and(|r| r.pad > 0) {
                flush(&mut t, &mut api);
            }
            match t.as_mut() {
                Some(r) => {
                    r.end = i + 1;
                    r.has_sep |= r.sep_pending;
                    r.sep_pending = false;
                }
                None => {
                    t = Some(ApiRun {
                        start: i,
                        end: i + 1,
                        has_sep: false,
                        sep_pending: false,
                        pad: 0,
                    })
                }
            }
            continue;
        }
        if let Some(s) = a_start.take() {
            alnum.push((s, i));
        }
        match (c, t.as_mut()) {
            ('_' | '+' | '/' | '-', Some(r)) if r.pad == 0 => r.sep_pending = true,
            ('=', Some(r)) if !r.sep_pending => r.pad += 1,
            _ => flush(&mut t, &mut api),
        }
    }
    if let Some(s) = a_start {
        alnum.push((s, p.len()));
    }
    flush(&mut t, &mut api);
    (alnum, api)
}

// ----------------------------------------------------------------- seeds --

#[derive(Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    /// ASCII letter run; `true` when it is a BIP-39 English word.
    En(bool),
    /// One Han character; `true` when it is in the Chinese list.
    Zh(bool),
}

#[derive(Clone, Copy)]
struct Item {
    s: usize,
    e: usize,
    kind: ItemKind,
    /// The gap before this item only holds separators (spaces, commas,
    /// numbering like `1.` or `(2)`, line breaks).
    gap_ok: bool,
    gap_empty: bool,
    gap_digit: bool,
}

/// Is `c` allowed between seed words?
fn seed_sep(c: char) -> bool {
    c.is_whitespace() || c.is_ascii_punctuation() || c.is_ascii_digit() || is_wide_punct(c)
}

fn seed_items(p: &Prepared) -> Vec<Item> {
    let mut items = Vec::new();
    let mut gap_len = 0usize;
    let mut gap_ok = true;
    let mut gap_digit = false;
    let mut gap_nondigit = false;
    let mut digit_run = 0usize;
    let mut word_start: Option<usize> = None;
    // Packed lowercase word; `None` once it is longer than 8 letters.
    let mut key: Option<u64> = Some(0);
    let mut word_len = 0usize;
    let mut gap_state = (true, true, false);
    let push_word = |items: &mut Vec<Item>,
                     s: usize,
                     e: usize,
                     key: Option<u64>,
                     n: usize,
                     g: (bool, bool, bool)| {
        items.push(Item {
            s,
            e,
            kind: ItemKind::En(n >= 3 && is_en_key(key)),
            gap_ok: g.0,
            gap_empty: g.1,
            gap_digit: g.2,
        });
    };
    for (i, c) in p.folded.chars().enumerate() {
        if c.is_ascii_alphabetic() {
            if word_start.is_none() {
                word_start = Some(i);
                key = Some(0);
                word_len = 0;
                let ok = gap_ok && gap_len <= 12 && (!gap_digit || gap_nondigit);
                gap_state = (ok, gap_len == 0, gap_digit);
            }
            word_len += 1;
            key = key
                .filter(|_| word_len <= 8)
                .map(|k| k << 8 | u64::from(c.to_ascii_lowercase() as u8));
            continue;
        }
        if let Some(ws) = word_start.take() {
            push_word(&mut items, ws, i, key, word_len, gap_state);
            gap_len = 0;
            gap_ok = true;
            gap_digit = false;
            gap_nondigit = false;
            digit_run = 0;
        }
        if is_han(c) {
            let ok = gap_ok && gap_len <= 12 && (!gap_digit || gap_nondigit);
            items.push(Item {
                s: i,
                e: i + 1,
                kind: ItemKind::Zh(is_zh_word(c)),
                gap_ok: ok,
                gap_empty: gap_len == 0,
                gap_digit,
            });
            gap_len = 0;
            gap_ok = true;
            gap_digit = false;
            gap_nondigit = false;
            digit_run = 0;
            continue;
        }
        gap_len += 1;
        if c.is_ascii_digit() {
            gap_digit = true;
            digit_run += 1;
            if digit_run > 3 {
                gap_ok = false;
            }
        } else {
            digit_run = 0;
            if seed_sep(c) {
                gap_nondigit = true;
            } else {
                gap_ok = false;
            }
        }
    }
    if let Some(ws) = word_start {
        push_word(&mut items, ws, p.len(), key, word_len, gap_state);
    }
    items
}

fn seeds(p: &Prepared, labels: &Labels, out: &mut Vec<Cand>) {
    let items = seed_items(p);
    seed_fragments(p, &items, labels, out);
    joined_seed_words(p, labels, out);
    if items.len() < 12 {
        return;
    }
    english_seeds(p, &items, labels, out);
    chinese_seeds(p, &items, labels, out);
}

// ------------------------------------------------------- seed fragments --

/// BIP-39 words that are also everyday support-chat English. A seed draws
/// its words evenly from all 2048, so about one in six of them is here; a
/// sentence that happens to use only list words ("can you check that
/// again please") is made mostly of these.
const COMMON_WORDS: &str = "about above accept access account across act action actual add address admit adult advance advice afford afraid again age agent agree ahead alarm alert all allow almost alone already also always amazing among amount another answer any apart apology appear approve area argue around arrange arrive ask asset assist assume attend auto average avoid awake aware away awesome awful baby bag balance bank bar base basic because become before begin behind believe below best better between beyond bid big bill birth black blame blind block blue board body bonus book boost border boring borrow boss both bottom box boy brain brand break bridge brief bright bring broken brother build business busy buy buyer call calm camera can cancel capable capital car card care case cash catch cause cell certain chain change charge chart chat cheap check chief child choice choose city claim clean clear click client close code coin collect come common company confirm connect consider contact control cool copy correct cost could country couple course cover crazy credit cross cry current custom cut daily damage danger data date day deal debt decide define delay deliver demand deny depart depend deposit describe design detail detect device dial differ digital direct discover display do document dollar domain double doubt down draft drop during duty early earn easily east easy edit effort either else email empty enable end enough enter entire entry equal error escape estate even event ever every exact example exchange exist exit expect expire explain extra face fact fail fair fall false family fan fast fault fee feel few field figure file fill final find fine finish fire first fix flag flash follow force forget form forward found free friend front frozen full fun future gain game general gift give glad good great group grow guess guide half hand happy hard have head health hear heart heavy hello help here hidden high history hit hold home hope hour how huge human hurry idea identify image include income increase index indicate info inform input inside install interest into invest invite issue item job join just keep key kind know label language large last later leave left legal less letter level life lift light like limit line link list little live load loan local lock long look lose loss love low lucky machine mail main major make manage manual many margin mark market match matter maximum may mean measure member memory mention menu message method middle might mind minimum minor minute miss mistake mobile model modify moment money month more morning most move much must name near need never new news next nice night normal note nothing notice now number object obtain obvious often okay old once one online only open option order original other over own owner page paper part pass password past pay payment people perfect permit person phone photo phrase pick picture piece place plan play please point police popular position possible post power prefer present price primary print private problem process profit program project proof property protect provide public pull purchase push put quality question quick quit quote rate rather reach read ready real reason receive recent record reduce refuse region regular reject release rely remain remember remind remove renew rent repair repeat replace reply report request require reset resource response rest result return review reward right rise risk rule run safe same save say scan screen search second secret section security see seed select sell send sense service session set setup share shift short should show side sign simple since single site size skill slow small smart social soft solution solve some someone soon sorry sort sound source space special speed spend spot staff stage stand start state stay step still stock stop story strategy strong student study stuff subject submit success such suggest summer sun super supply support sure surface switch system table take talk task team tell term test text than thank that then there they thing think this though time today together token tomorrow tool top topic total touch toward track trade traffic transfer travel trend trial trick trip trouble true truly trust try turn twice two type under unfair unit unknown unlock until update upgrade upon usage use used useful user usual valid various verify version very video view visit voice wait walk wall want warm wash waste watch water way wealth web weekend weird welcome what when where while whole why will win window wish with woman wonder word work world worry worth would write wrong year yes you young zero";

static COMMON: LazyLock<Vec<u64>> = LazyLock::new(|| {
    let mut v: Vec<u64> = COMMON_WORDS
        .split_whitespace()
        .filter_map(|w| pack_word(w.bytes()))
        .collect();
    v.sort_unstable();
    v
});

fn is_common(p: &Prepared, it: &Item) -> bool {
    pack_word(p.slice(it.s, it.e).bytes()).is_some_and(|k| COMMON.binary_search(&k).is_ok())
}

/// Few enough everyday words for `n` list words to read as a seed.
fn seed_like(p: &Prepared, words: &[Item]) -> bool {
    let n = words.len();
    let common = words.iter().filter(|it| is_common(p, it)).count();
    if n >= 6 {
        common * 2 <= n
    } else {
        common <= 1
    }
}

/// Words allowed between a seed label and the words (`my seed is …`).
const SEED_FILLER: [&str; 16] = [
    "is", "are", "was", "were", "my", "the", "here", "as", "be", "it", "its", "these", "of", "in",
    "part", "first",
];

/// Parts of seeds, not whole ones: a seed pasted in pieces leaks as surely
/// as a whole one, so these shapes count on their own:
/// - list words right after a seed label (`my seed is abandon ability
///   able`, `助记词：的 一 是`): anything after the label is taken as seed
///   words;
/// - numbered list words (`7. absorb 8. abstract`);
/// - a message made only of list words, mostly not everyday ones.
fn seed_fragments(p: &Prepared, items: &[Item], labels: &Labels, out: &mut Vec<Cand>) {
    if items.is_empty() {
        return;
    }
    let push = |out: &mut Vec<Cand>, w: &[Item]| {
        out.push(Cand {
            kind: SecretKind::SeedPhrase,
            start: w[0].s,
            end: w[w.len() - 1].e,
        })
    };
    // A message made only of English list words.
    let only_list = items
        .iter()
        .all(|it| it.kind == ItemKind::En(true) && it.gap_ok && (!it.gap_empty || it.s == 0));
    if only_list && items.len() >= 4 && seed_like(p, items) {
        let mut outside = p
            .slice(0, items[0].s)
            .chars()
            .chain(p.slice(items[items.len() - 1].e, p.len()).chars());
        if outside.all(seed_sep) {
            push(out, items);
        }
    }
    // Numbered list words.
    for r in runs(items, ItemKind::En(true), false) {
        let w = &items[r.a..=r.b];
        if w.len() >= 2 && w.iter().all(|it| it.gap_digit) && seed_like(p, w) {
            push(out, w);
        }
    }
    // Right after a seed label.
    let seed = labels.get(Label::Seed);
    for &(_, le) in &seed.spans {
        let mut i = items.partition_point(|it| it.s < le);
        while i < items.len() && items[i].s < le + 16 {
            let it = &items[i];
            let word = p.slice(it.s, it.e).to_ascii_lowercase();
            let filler = match it.kind {
                ItemKind::En(_) => SEED_FILLER.contains(&word.as_str()),
                ItemKind::Zh(_) => "是为如下我的".contains(word.as_str()),
            };
            if !filler {
                break;
            }
            i += 1;
        }
        if i >= items.len() || items[i].s >= le + 16 || !items[i].gap_ok {
            continue;
        }
        let kind = items[i].kind;
        if !matches!(kind, ItemKind::En(true) | ItemKind::Zh(true)) {
            continue;
        }
        let mut j = i;
        while j + 1 < items.len()
            && items[j + 1].kind == kind
            && items[j + 1].gap_ok
            && (kind == ItemKind::Zh(true) || !items[j + 1].gap_empty)
        {
            j += 1;
        }
        let w = &items[i..=j];
        match kind {
            ItemKind::En(_) if w.len() >= 3 && seed_like(p, w) => push(out, w),
            ItemKind::Zh(_) => {
                let separated = w.iter().skip(1).all(|it| !it.gap_empty);
                let contiguous = w.iter().skip(1).all(|it| it.gap_empty);
                let tail_clean = p.slice(w[w.len() - 1].e, p.len()).chars().all(seed_sep);
                let prose = w
                    .iter()
                    .filter(|it| {
                        ZH_PROSE.contains(p.slice(it.s, it.e))
                            || ZH_QUESTION.contains(p.slice(it.s, it.e))
                    })
                    .count();
                if (separated && w.len() >= 3 && prose * 2 < w.len())
                    || (contiguous && (6..12).contains(&w.len()) && prose == 0 && tail_clean)
                {
                    push(out, w);
                }
            }
            _ => {}
        }
    }
}

/// Characters of questions about a seed (`助记词是多少位`).
const ZH_QUESTION: &str = "多少几哪怎什么谁吗呢啥丢忘找偷被导备份安全意思区别告诉任何人客服发给";

/// A seed written as one word: `AbandonAbilityAble…` (CamelCase) or
/// `abandonabilityable…` (run together). A run-together word counts when
/// it splits entirely into list words, at least 12 of them (3 next to a seed
/// label).
fn joined_seed_words(p: &Prepared, labels: &Labels, out: &mut Vec<Cand>) {
    let chars: Vec<char> = p.folded.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let s = i;
        while i < chars.len() && chars[i].is_ascii_alphabetic() {
            i += 1;
        }
        let e = i;
        if e - s < 12 {
            continue;
        }
        let word: Vec<u8> = chars[s..e]
            .iter()
            .map(|c| c.to_ascii_lowercase() as u8)
            .collect();
        let near = seed_ctx_near(labels, s, e);
        let min = if near { 3 } else { 6 };
        // CamelCase: split where a capital letter starts a word.
        let caps: Vec<usize> = (0..e - s)
            .filter(|&k| chars[s + k].is_ascii_uppercase())
            .collect();
        let camel = caps.len() >= 3 && caps.len() * 2 < e - s && caps[0] == 0;
        let count = if camel {
            let mut bounds = caps.clone();
            bounds.push(e - s);
            let all = bounds
                .windows(2)
                .all(|w| is_en_key(pack_word(word[w[0]..w[1]].iter().copied())));
            all.then_some(caps.len())
        } else {
            split_into_words(&word)
        };
        let needed = if camel {
            min
        } else if near {
            3
        } else {
            12
        };
        if count.is_some_and(|n| n >= needed) {
            out.push(Cand {
                kind: SecretKind::SeedPhrase,
                start: s,
                end: e,
            });
        }
    }
}

/// How many list words `w` splits into (the most, if several splits work),
/// or `None` if it does not split entirely.
fn split_into_words(w: &[u8]) -> Option<usize> {
    let n = w.len();
    let mut best: Vec<Option<usize>> = vec![None; n + 1];
    best[0] = Some(0);
    for i in 0..n {
        let Some(k) = best[i] else { continue };
        for l in 3..=8 {
            if i + l > n {
                break;
            }
            if is_en_key(pack_word(w[i..i + l].iter().copied())) {
                best[i + l] = Some(best[i + l].map_or(k + 1, |b| b.max(k + 1)));
            }
        }
    }
    best[n]
}

/// A maximal run of consecutive wordlist items `[a, b]` (item indices).
#[derive(Clone, Copy)]
struct Run {
    a: usize,
    b: usize,
}

fn runs(items: &[Item], want: ItemKind, allow_empty_gap: bool) -> Vec<Run> {
    let mut out = Vec::new();
    let mut cur: Option<Run> = None;
    for (i, it) in items.iter().enumerate() {
        if it.kind == want {
            match cur {
                Some(ref mut r)
                    if r.b + 1 == i && it.gap_ok && (allow_empty_gap || !it.gap_empty) =>
                {
                    r.b = i
                }
                _ => {
                    if let Some(r) = cur.take() {
                        out.push(r);
                    }
                    cur = Some(Run { a: i, b: i });
                }
            }
        } else if let Some(r) = cur.take() {
            out.push(r);
        }
    }
    if let Some(r) = cur {
        out.push(r);
    }
    out
}

fn numbered(items: &[Item], r: Run) -> bool {
    let k = r.b - r.a + 1;
    let with_digits = items[r.a + 1..=r.b]
        .iter()
        .filter(|it| it.gap_digit)
        .count();
    k > 1 && with_digits * 2 >= k - 1
}

fn seed_ctx_near(labels: &Labels, s: usize, e: usize) -> bool {
    labels.get(Label::Seed).any_in(s.saturating_sub(60), e + 30)
}

/// Narrows a run of ≥ 12 wordlist words to the seed itself. Label words can
/// be wordlist words too (`seed`, `phrase`, `words`, `please`, `help`), so
/// leading/trailing items inside a seed label are dropped, and for an
/// unusual length a 12/15/18/21/24-word window near either end that passes
/// the BIP-39 checksum is preferred. Falls back to the whole run.
fn exact_english_span(p: &Prepared, items: &[Item], labels: &Labels, r: Run) -> (usize, usize) {
    let seed = labels.get(Label::Seed);
    let (mut a, mut b) = (r.a, r.b);
    while a < b && seed.any_in(items[a].s, items[a].e) {
        a += 1;
    }
    while b > a && seed.any_in(items[b].s, items[b].e) {
        b -= 1;
    }
    let k = b + 1 - a;
    if k < 12 {
        return (r.a, r.b);
    }
    // A run of list words longer than a seed is hidden whole: a word left
    // out may be a seed word (13 words, one of them mistyped or extra).
    if VALID_SEED_LENS.contains(&k) || k > 12 {
        return (a, b);
    }
    let words = |x: usize, y: usize| -> Vec<String> {
        items[x..=y]
            .iter()
            .map(|it| p.slice(it.s, it.e).to_ascii_lowercase())
            .collect()
    };
    for l in VALID_SEED_LENS.iter().rev().copied().filter(|&l| l <= k) {
        let last = k - l;
        let offs = [
            0,
            1,
            2,
            last.saturating_sub(2),
            last.saturating_sub(1),
            last,
        ];
        for off in offs.into_iter().filter(|&o| o <= last) {
            if checksum_ok(Language::English, &words(a + off, a + off + l - 1)) {
                return (a + off, a + off + l - 1);
            }
        }
    }
    (a, b)
}

/// English seeds.
///
/// Why a run of ≥ 12 *consecutive* wordlist words: many everyday words are
/// in the BIP-39 list (`you`, `that`, `help`, `account`, `order`…), but the
/// commonest glue words are not (`the`, `a`, `to`, `is`, `my`, `I`, `and`,
/// `of`), so real sentences break such runs long before 12. Typos in a seed
/// (one unknown word) are bridged only when the message also says it is a
/// seed (context word or `1. 2. 3.` numbering).
fn english_seeds(p: &Prepared, items: &[Item], labels: &Labels, out: &mut Vec<Cand>) {
    let rs = runs(items, ItemKind::En(true), false);
    for r in &rs {
        if r.b - r.a + 1 >= 12 {
            let (a, b) = exact_english_span(p, items, labels, *r);
            out.push(Cand {
                kind: SecretKind::SeedPhrase,
                start: items[a].s,
                end: items[b].e,
            });
        }
    }
    // Bridged chains: runs separated by exactly one unknown word (a typo).
    let mut i = 0;
    while i < rs.len() {
        let mut j = i;
        let mut words = rs[i].b - rs[i].a + 1;
        let mut bridges = 0;
        while j + 1 < rs.len() && bridges < 2 {
            let (cur, next) = (rs[j], rs[j + 1]);
            let mid = cur.b + 1;
            let bridge = mid + 1 == next.a
                && matches!(items[mid].kind, ItemKind::En(false))
                && items[mid].e - items[mid].s <= 12
                && items[mid].gap_ok
                && items[next.a].gap_ok;
            if !bridge {
                break;
            }
            bridges += 1;
            words += next.b - next.a + 1;
            j += 1;
        }
        if j > i && words >= 11 && words + bridges >= 12 {
            let (s, e) = (items[rs[i].a].s, items[rs[j].b].e);
            let chain = Run {
                a: rs[i].a,
                b: rs[j].b,
            };
            if seed_ctx_near(labels, s, e) || numbered(items, chain) {
                out.push(Cand {
                    kind: SecretKind::SeedPhrase,
                    start: s,
                    end: e,
                });
            }
        }
        i = j + 1;
    }
}

/// Chinese seeds.
///
/// About 97% of characters in everyday Chinese are in the Chinese BIP-39
/// list, so a run of list characters means nothing by itself. Two shapes
/// are still unmistakable: ≥ 12 single characters *separated* by spaces,
/// commas or numbering (nobody writes prose like that), and a contiguous run
/// right after "助记词" whose 12/15/18/21/24 characters pass the BIP-39
/// checksum (1 in 16 or less by chance, and only right after the label).
fn chinese_seeds(p: &Prepared, items: &[Item], labels: &Labels, out: &mut Vec<Cand>) {
    for r in runs(items, ItemKind::Zh(true), true) {
        if r.b - r.a + 1 < 12 {
            continue;
        }
        // Separated stretches: every gap inside holds a separator.
        let mut a = r.a;
        while a <= r.b {
            let mut b = a;
            while b < r.b && !items[b + 1].gap_empty {
                b += 1;
            }
            if b + 1 - a >= 12 {
                separated_zh(p, items, a, b, out);
            }
            a = b + 1;
        }
        // Contiguous segments: no gap at all.
        let mut a = r.a;
        while a <= r.b {
            let mut b = a;
            while b < r.b && items[b + 1].gap_empty {
                b += 1;
            }
            if b + 1 - a >= 12 {
                contiguous_zh(p, items, labels, a, b, out);
            }
            a = b + 1;
        }
    }
}

fn zh_words(p: &Prepared, items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|it| p.slice(it.s, it.e).to_string())
        .collect()
}

/// `的 一 是 …` (≥ 12 separated list characters). The stretch may have picked
/// up a neighbour (`助记词 的 一 …` → `词`); a checksum-valid window of a
/// valid length, if there is one, gives the exact span.
fn separated_zh(p: &Prepared, items: &[Item], a: usize, b: usize, out: &mut Vec<Cand>) {
    let m = b + 1 - a;
    let mut span = (items[a].s, items[b].e);
    if !VALID_SEED_LENS.contains(&m) {
        'search: for l in VALID_SEED_LENS.iter().rev().copied().filter(|&l| l <= m) {
            for off in 0..=(m - l).min(2) {
                let w = &items[a + off..a + off + l];
                if checksum_ok(Language::SimplifiedChinese, &zh_words(p, w)) {
                    span = (w[0].s, w[l - 1].e);
                    break 'search;
                }
            }
        }
    }
    out.push(Cand {
        kind: SecretKind::SeedPhrase,
        start: span.0,
        end: span.1,
    });
}

/// Characters that are everywhere in Chinese prose. A random seed rarely
/// contains more than one of them; a sentence after "助记词" has several.
const ZH_PROSE: &str =
    "的了是不我你他她它在有这那吗么怎什被就都也还和把给说要会能可很没到啊呢吧们请帮谢";

/// `助记词：的一是在…` without separators: only right after a seed label,
/// and only if a 12/15/18/21/24-character window passes the BIP-39 checksum
/// and does not read like prose.
fn contiguous_zh(
    p: &Prepared,
    items: &[Item],
    labels: &Labels,
    a: usize,
    b: usize,
    out: &mut Vec<Cand>,
) {
    let seed = labels.get(Label::Seed);
    let (s, e) = (items[a].s, items[b].e);
    // Start after the last seed label inside the segment ("助记词" itself is
    // made of list characters), or require one just before it.
    let i = seed.spans.partition_point(|&(hs, _)| hs < e);
    let start = match i.checked_sub(1).map(|k| seed.spans[k]) {
        Some((_, he)) if he <= e && he + 12 >= s => he.max(s),
        _ => return,
    };
    let Some(mut first) = items[a..=b]
        .iter()
        .position(|it| it.s >= start)
        .map(|x| x + a)
    else {
        return;
    };
    // Skip a leading 是/为/如下.
    for _ in 0..2 {
        if first <= b && "是为如下：".contains(p.slice(items[first].s, items[first].e)) {
            first += 1;
        }
    }
    let m = (b + 1).saturating_sub(first);
    let prose = |w: &[Item]| {
        w.iter()
            .filter(|it| ZH_PROSE.contains(p.slice(it.s, it.e)))
            .count()
    };
    for l in VALID_SEED_LENS.iter().rev().copied().filter(|&l| l <= m) {
        let w = &items[first..first + l];
        if prose(w) <= 1 && checksum_ok(Language::SimplifiedChinese, &zh_words(p, w)) {
            out.push(Cand {
                kind: SecretKind::SeedPhrase,
                start: w[0].s,
                end: w[l - 1].e,
            });
            return;
        }
    }
}

/// While a seed is being pasted in pieces: the span from the first to the
/// last English list word, when list words (at least two) make up at least
/// three quarters of the message's words; or separated Chinese list
/// characters (at least two).
pub(crate) fn seed_continuation(p: &Prepared) -> Option<(usize, usize)> {
    let items = seed_items(p);
    let en: Vec<&Item> = items
        .iter()
        .filter(|it| matches!(it.kind, ItemKind::En(_)))
        .collect();
    let zh: Vec<&Item> = items
        .iter()
        .filter(|it| matches!(it.kind, ItemKind::Zh(_)))
        .collect();
    let listed: Vec<&&Item> = en
        .iter()
        .filter(|it| it.kind == ItemKind::En(true))
        .collect();
    if zh.is_empty() && listed.len() >= 2 && listed.len() * 4 >= en.len() * 3 {
        return Some((listed[0].s, listed[listed.len() - 1].e));
    }
    // Or the longest run of list words, three or more ("and the rest are
    // …", "后面几个是 …", "欲 留 发 … 谢谢").
    let mut best: Option<(usize, usize, usize)> = None;
    for want in [ItemKind::En(true), ItemKind::Zh(true)] {
        for r in runs(&items, want, false) {
            let n = r.b + 1 - r.a;
            if n >= 3 && best.is_none_or(|(m, _, _)| n > m) {
                best = Some((n, items[r.a].s, items[r.b].e));
            }
        }
    }
    if let Some((_, s, e)) = best {
        return Some((s, e));
    }
    let zl: Vec<&&Item> = zh
        .iter()
        .filter(|it| it.kind == ItemKind::Zh(true))
        .collect();
    let separated = zl.iter().skip(1).all(|it| !it.gap_empty);
    if en.is_empty() && zl.len() >= 2 && zl.len() == zh.len() && separated {
        return Some((zl[0].s, zl[zl.len() - 1].e));
    }
    None
}

/// How many seed words lie in `[s, e)`: English words, or Han characters.
pub(crate) fn seed_word_count(p: &Prepared, s: usize, e: usize) -> usize {
    let t = p.slice(s, e);
    let en = t
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 3)
        .count();
    if en > 0 {
        en
    } else {
        t.chars().filter(|&c| is_han(c)).count()
    }
}

// ---------------------------------------------------------- alnum tokens --

const B58: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn is_b58(t: &str) -> bool {
    t.bytes().all(|b| B58.as_bytes().contains(&b))
}

fn is_hex(t: &str) -> bool {
    t.bytes().all(|b| b.is_ascii_hexdigit())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// 64 hex chars, optionally `0x`: a private key *or* a TXID.
    Hex64,
    /// BIP-32 extended private key.
    Xprv,
    /// Wallet Import Format private key.
    Wif,
    /// Other long hex/base58 (Solana keys, 32-hex secrets…).
    LongKeyish,
    /// Looks like a wallet address: never a private key.
    AddressLike,
    /// Any other long token with letters and digits.
    Generic,
}

fn shape(t: &str) -> Option<Shape> {
    let body = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let n = t.len();
    if is_hex(body) && body.len() == 64 {
        return Some(Shape::Hex64);
    }
    if body.len() != n && is_hex(body) && body.len() == 40 {
        return Some(Shape::AddressLike);
    }
    let lower4 = t.get(..4).map(|s| s.to_ascii_lowercase());
    if matches!(
        lower4.as_deref(),
        Some("xprv" | "yprv" | "zprv" | "tprv" | "uprv" | "vprv")
    ) && (100..=120).contains(&n)
        && is_b58(t)
    {
        return Some(Shape::Xprv);
    }
    if is_b58(t)
        && ((n == 51 && t.starts_with('5'))
            || (n == 52 && (t.starts_with('K') || t.starts_with('L'))))
    {
        return Some(Shape::Wif);
    }
    let has_digit = t.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = t.bytes().any(|b| b.is_ascii_alphabetic());
    let mixed_case =
        t.bytes().any(|b| b.is_ascii_uppercase()) && t.bytes().any(|b| b.is_ascii_lowercase());
    if n < 16 || !(has_alpha && (has_digit || (n >= 24 && mixed_case))) {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    let addr = (t.starts_with('T') && n == 34 && is_b58(t))
        || ((t.starts_with('1') || t.starts_with('3')) && (26..=35).contains(&n) && is_b58(t))
        || (lower.starts_with("bc1") && (42..=62).contains(&n))
        || (is_b58(t) && (32..=44).contains(&n));
    if addr {
        return Some(Shape::AddressLike);
    }
    if n >= 32 && (is_hex(body) || is_b58(t)) {
        return Some(Shape::LongKeyish);
    }
    Some(Shape::Generic)
}

/// Decide the secret kind of a key-shaped token from its nearest label.
fn key_kind(
    sh: Shape,
    label: Option<Label>,
    ctx: &ScanContext,
    tx_talk: &dyn Fn() -> bool,
) -> Option<SecretKind> {
    use Label as L;
    use SecretKind as K;
    let tx_expected = ctx.expecting == Some(Expected::TxHash);
    match sh {
        Shape::Xprv | Shape::Wif => Some(K::PrivateKey),
        // A bare 64-hex string is a private key as often as a TXID: unless
        // a dialog asked for a hash, or the message talks about a transfer,
        // it is hidden (a TXID hidden by mistake costs a question; a key
        // shown costs the wallet).
        Shape::Hex64 if label.is_none() => (!tx_expected && !tx_talk()).then_some(K::PrivateKey),
        Shape::Hex64 => match label? {
            L::Api => Some(K::ApiKey),
            L::Priv | L::SecretKey => Some(K::PrivateKey),
            // A bare "key" is weak: if we asked for a tx hash, it's one.
            L::Key if !tx_expected => Some(K::PrivateKey),
            _ => None,
        },
        Shape::LongKeyish => match label? {
            L::Priv => Some(K::PrivateKey),
            L::Api | L::SecretKey | L::Key => Some(K::ApiKey),
            _ => None,
        },
        Shape::AddressLike | Shape::Generic => match label? {
            L::Api | L::SecretKey | L::Key | L::Priv => Some(K::ApiKey),
            _ => None,
        },
    }
}

/// Is the token at char `s` part of a URL? Keys don't live in URLs, but
/// explorer links and FAQ links full of ids do.
fn in_url(p: &Prepared, s: usize) -> bool {
    let before = p.before(s, 200);
    let chunk = before
        .rsplit(|c: char| c.is_whitespace() || is_han(c))
        .next()
        .unwrap_or("");
    chunk.contains("://") || chunk.to_ascii_lowercase().starts_with("www.")
}

/// Words that make a bare 64-hex string a transaction: a transfer is being
/// talked about.
pub(crate) static TX_TALK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:deposit\w*|withdr\w*|transfer\w*|sent|send|sending|received?|receiving|arrived?|confirm\w*|pending|network|chain|explorer|blocks?|trc20|erc20|bep20|usdt|btc|eth)(?-u:\b)|充值|提币|提現|提现|转账|轉賬|到账|到帳|链上|確認|确认|区块|網絡|网络",
    )
});

/// A key pasted over several lines (or with spaces every few characters):
/// hex or base58 pieces separated only by white space, which together
/// make a 64-hex key, a WIF or an xprv. After a private-key label, pieces
/// of at least 16 characters in all are a key (the rest may follow in the
/// next message).
fn split_keys(
    p: &Prepared,
    runs: &[(usize, usize)],
    labels: &Labels,
    ctx: &ScanContext,
    tx_talk: &dyn Fn() -> bool,
    out: &mut Vec<Cand>,
) {
    let mut i = 0;
    while i < runs.len() {
        let piece = |k: usize| {
            let (s, e) = runs[k];
            let t = p.slice(s, e);
            let body = t.strip_prefix("0x").unwrap_or(t);
            e - s >= 4 && (is_hex(body) || is_b58(t)) && !t.bytes().all(|b| b.is_ascii_digit())
        };
        if !piece(i) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < runs.len()
            && piece(j + 1)
            && p.slice(runs[j].1, runs[j + 1].0)
                .chars()
                .all(char::is_whitespace)
            && runs[j + 1].0 - runs[j].1 <= 4
        {
            j += 1;
        }
        let (s, e) = (runs[i].0, runs[j].1);
        let joined: String = runs[i..=j].iter().map(|&(a, b)| p.slice(a, b)).collect();
        let label = labels.key_label(s, e);
        let kind = if j > i {
            shape(&joined).and_then(|sh| match sh {
                Shape::Hex64 | Shape::Xprv | Shape::Wif => key_kind(sh, label, ctx, tx_talk),
                _ => None,
            })
        } else {
            None
        };
        let kind = kind.or_else(|| {
            let body = joined.strip_prefix("0x").unwrap_or(&joined);
            (label == Some(Label::Priv)
                && body.len() >= 8
                && (j > i || body.len() < 32)
                && (is_hex(body) || (body.len() >= 16 && is_b58(&joined))))
            .then_some(SecretKind::PrivateKey)
        });
        if let Some(kind) = kind {
            out.push(Cand {
                kind,
                start: s,
                end: e,
            });
        }
        i = j + 1;
    }
}

fn alnum_tokens(
    p: &Prepared,
    runs: &[(usize, usize)],
    labels: &Labels,
    ctx: &ScanContext,
    out: &mut Vec<Cand>,
) {
    let talk = OnceCell::new();
    let tx_talk = || *talk.get_or_init(|| TX_TALK.is_match(&p.folded));
    split_keys(p, runs, labels, ctx, &tx_talk, out);
    let mut prev3: Option<(usize, usize)> = None;
    for &(s, e) in runs {
        let t = p.slice(s, e);
        let digits = t.bytes().all(|b| b.is_ascii_digit());
        if digits {
            let n = t.len();
            if (4..=8).contains(&n) {
                otp_candidate(p, labels, ctx, s, e, out);
            }
            if n == 3 {
                // Authenticator apps show codes as "482 913".
                if let Some((ps, pe)) = prev3 {
                    if pe + 1 == s && matches!(p.char_at(pe), Some(' ' | '-')) {
                        otp_candidate(p, labels, ctx, ps, e, out);
                    }
                }
                prev3 = Some((s, e));
            } else {
                prev3 = None;
            }
            continue;
        }
        prev3 = None;
        if t.len() < 16 {
            continue;
        }
        let Some(sh) = shape(t) else { continue };
        if !matches!(sh, Shape::Xprv | Shape::Wif) && in_url(p, s) {
            continue;
        }
        let label = match sh {
            Shape::Xprv | Shape::Wif => None,
            _ => labels.key_label(s, e),
        };
        if let Some(kind) = key_kind(sh, label, ctx, &tx_talk) {
            out.push(Cand {
                kind,
                start: s,
                end: e,
            });
        }
    }
}

/// Tokens with `-`, `_`, `+`, `/`, `=` (UUID-style and base64 API secrets).
/// Pure alphanumerics were already judged by [`alnum_tokens`].
fn api_tokens(p: &Prepared, runs: &[(usize, usize)], labels: &Labels, out: &mut Vec<Cand>) {
    for &(s, e) in runs {
        let t = p.slice(s, e);
        if t.len() < 16 || t.bytes().all(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        let has_digit = t.bytes().any(|b| b.is_ascii_digit());
        let has_alpha = t.bytes().any(|b| b.is_ascii_alphabetic());
        if !(has_digit && has_alpha) {
            continue;
        }
        // `my_trading_bot_2024` is a name, not a secret: random tokens have
        // at least one part that mixes letters and digits.
        let random_part = t.split(['_', '-', '+', '/', '=']).any(|part| {
            part.bytes().any(|b| b.is_ascii_digit())
                && part.bytes().any(|b| b.is_ascii_alphabetic())
        });
        if !random_part {
            continue;
        }
        if in_url(p, s) {
            continue;
        }
        if let Some(Label::Api | Label::SecretKey | Label::Key | Label::Priv) =
            labels.key_label(s, e)
        {
            out.push(Cand {
                kind: SecretKind::ApiKey,
                start: s,
                end: e,
            });
        }
    }
}

// -------------------------------------------------------------------- OTP --

fn otp_candidate(
    p: &Prepared,
    labels: &Labels,
    ctx: &ScanContext,
    s: usize,
    e: usize,
    out: &mut Vec<Cand>,
) {
    let joiner = |c: Option<char>| matches!(c, Some('.' | ',' | '-' | '/' | ':' | '_'));
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    let (p1, p2) = (
        s.checked_sub(1).and_then(|i| p.char_at(i)),
        s.checked_sub(2).and_then(|i| p.char_at(i)),
    );
    let (n1, n2) = (p.char_at(e), p.char_at(e + 1));
    // Part of a bigger number: 1,234,567 / 2024-05-01 / 0.12345 / 12:30,
    // a phone written in groups (138 1234 5678) or masked (138****5678).
    let spaced = |c: Option<char>| matches!(c, Some(' '));
    if ((joiner(p1) || spaced(p1)) && digit(p2)) || ((joiner(n1) || spaced(n1)) && digit(n2)) {
        return;
    }
    if matches!(p1, Some('*')) || matches!(n1, Some('*')) {
        return;
    }
    if n1.is_some_and(|c| c.is_ascii_alphabetic()) {
        return;
    }
    let otp = labels.get(Label::Otp);
    if p1.is_some_and(|c| c.is_ascii_alphabetic()) && !otp.ends_at(s) {
        return;
    }
    // Money: "$ 5000", "¥5000", "#12345678".
    let before = p.before(s, 3).trim_end();
    if before.ends_with(['$', '¥', '￥', '€', '£', '#']) {
        return;
    }
    if UNIT_AFTER.is_match(p.after(e, 12)) {
        return;
    }
    let neg = labels.get(Label::Neg);
    // A year ("2fa enabled in 2021") unless a code label is right before it.
    let year = p
        .slice(s, e)
        .parse::<u32>()
        .is_ok_and(|y| e - s == 4 && (1990..=2039).contains(&y));
    if year && nearest_label(&[neg, otp], s, e, 3, 0) != Some(Label::Otp) {
        return;
    }
    let strict = matches!(
        ctx.expecting,
        Some(Expected::OrderId | Expected::Uid | Expected::Amount)
    );
    // We asked for an order id/UID/amount: only a label right before the
    // number ("验证码：482913") can make it a code.
    let (before_w, after_w) = if strict { (8, 0) } else { (20, 20) };
    if nearest_label(&[neg, otp], s, e, before_w, after_w) == Some(Label::Otp) {
        out.push(Cand {
            kind: SecretKind::OneTimeCode,
            start: s,
            end: e,
        });
    }
}

// -------------------------------------------------------------- passwords --

fn passwords(p: &Prepared, out: &mut Vec<Cand>) {
    for c in EN_PW.captures_iter(&p.folded) {
        let (Some(all), Some(kw), Some(sep)) = (c.get(0), c.get(1), c.get(2)) else {
            continue;
        };
        let explicit = !sep.as_str().trim().is_empty();
        let kw = kw.as_str().to_ascii_lowercase();
        // `pass Qx8vR7#mZ`: a bare "pass" (or "pin", "pw") is a verb or a
        // word as often as a label, so only a token that cannot be a word
        // follows it.
        let strength = match (explicit, kw.as_str()) {
            (true, _) => Strength::Any,
            (false, "pass" | "pin" | "pw" | "passphrase" | "p@ss") => Strength::Random,
            (false, _) => Strength::Strong,
        };
        password_token(p, p.to_char(all.end()), strength, out);
    }
    for c in LOGIN_PAIR.captures_iter(&p.folded) {
        let Some(all) = c.get(0) else { continue };
        password_token(p, p.to_char(all.end()), Strength::Pair, out);
    }
    for m in ZH_PW.find_iter(&p.folded) {
        // 动态口令 is a one-time code, not a password.
        if p.folded[..m.start()].ends_with("动态") {
            continue;
        }
        password_token(p, p.to_char(m.end()), Strength::Any, out);
    }
}

/// How much a password candidate must look like one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strength {
    /// After an explicit label (`password:`): anything but talk.
    Any,
    /// At least six characters with a digit or a symbol.
    Strong,
    /// Strong, and not a plain number (a phone number after an e-mail).
    Pair,
    /// Strong with a symbol, or digits with both cases (`pass Qx8vR7#mZ`,
    /// but not `pass level2`).
    Random,
}

/// Extract and judge the password token starting at char `t0`.
pub(crate) fn password_token(p: &Prepared, t0: usize, strength: Strength, out: &mut Vec<Cand>) {
    let mut e = t0;
    while let Some(c) = p.char_at(e) {
        if c.is_whitespace() || is_han(c) || is_wide_punct(c) || e - t0 >= 128 {
            break;
        }
        e += 1;
    }
    if e == t0 {
        return;
    }
    let raw = p.slice(t0, e);
    if raw.starts_with(['[', '<', '{']) || raw.contains("://") {
        return; // a placeholder ("[hidden: …]", "<password>") or a link
    }
    let lead = raw
        .chars()
        .take_while(|c| "\"'“‘「『(".contains(*c))
        .count();
    let trail = raw
        .chars()
        .rev()
        .take_while(|c| ".,;:)]}>\"'”’」』".contains(*c))
        .count();
    let n = raw.chars().count();
    if lead + trail >= n {
        return;
    }
    let (s, e) = (t0 + lead, e - trail);
    let tok = p.slice(s, e);
    if e - s < 4 {
        return;
    }
    // "!" and "?" may belong to a password, so they stay in the redacted
    // span, but "is expired?" is still talk about a password.
    let lower = tok.to_lowercase();
    let bare = lower.trim_end_matches(['!', '?']);
    if bare.chars().count() < 4
        || PW_STOP.contains(bare)
        || tok.chars().all(|c| "*•●xX#?._-".contains(c))
    {
        return;
    }
    if UNIT_AFTER.is_match(p.after(e, 12)) {
        return;
    }
    if strength != Strength::Any {
        let strong = tok.len() >= 6
            && tok
                .chars()
                .any(|c| c.is_ascii_digit() || (c.is_ascii_punctuation() && c != '.'));
        if !strong {
            return;
        }
        let digits_only = tok.chars().all(|c| c.is_ascii_digit());
        let email = tok.contains('@') && tok.contains('.');
        if strength == Strength::Pair && (digits_only || email) {
            return;
        }
        if strength == Strength::Random {
            let symbol = tok.chars().any(|c| c.is_ascii_punctuation() && c != '.');
            let upper = tok.chars().any(|c| c.is_ascii_uppercase());
            let lower = tok.chars().any(|c| c.is_ascii_lowercase());
            let digit = tok.chars().any(|c| c.is_ascii_digit());
            if !(symbol || (upper && lower && digit)) {
                return;
            }
        }
    }
    out.push(Cand {
        kind: SecretKind::Password,
        start: s,
        end: e,
    });
}
