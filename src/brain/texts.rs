//! The bot's own words, in both languages. Dialog and intent texts come
//! from the pack; these are the words around them.

use crate::dialog::Kind;
use crate::lang::Lang;

pub fn welcome(lang: Lang) -> &'static str {
    lang.pick(
        "您好，我是智能客服。请直接描述您遇到的问题，例如“提币还没到账”或“账号被冻结”。\n输入 /help 查看帮助，/lang en 切换到英文，/human 转人工。\n提醒：客服绝不会向您索要密码、验证码、私钥或助记词。",
        "Hi, I'm the support assistant. Tell me what's wrong in your own words, e.g. \"my withdrawal hasn't arrived\" or \"my account is locked\".\nType /help for help, /lang zh for Chinese, /human for a person.\nReminder: support will never ask for your password, codes, private keys or seed phrase.",
    )
}

pub fn help(lang: Lang) -> &'static str {
    lang.pick(
        "我可以帮您处理：账号冻结、找回密码或 2FA、账号被盗、交易失败、提币未到账、充值未到账、实名认证、核实客服身份等问题。直接用一句话描述问题即可。\n命令：\n/start 重新开始\n/cancel 取消当前流程\n/human 转人工客服\n/status 查看工单进度\n/verify @用户名 核实对方是否官方客服\n/lang zh|en 切换语言\n/help 帮助",
        "I can help with: locked accounts, password or 2FA reset, hacked accounts, failed trades, withdrawals not arrived, missing deposits, identity verification (KYC), and checking whether someone is really our staff. Just describe your problem in one sentence.\nCommands:\n/start start over\n/cancel stop the current flow\n/human talk to a person\n/status where your tickets stand\n/verify @handle check whether an account is our staff\n/lang zh|en switch language\n/help this help",
    )
}

pub fn language_set(lang: Lang) -> &'static str {
    lang.pick(
        "好的，接下来我会用中文回复您。",
        "OK, I'll reply in English from now on.",
    )
}

pub fn language_usage(lang: Lang) -> &'static str {
    lang.pick("用法：/lang zh 或 /lang en", "Usage: /lang zh or /lang en")
}

pub fn unknown_command(lang: Lang) -> &'static str {
    lang.pick(
        "未知命令。输入 /help 查看可用命令。",
        "Unknown command. Type /help to see what I understand.",
    )
}

pub fn did_you_mean(lang: Lang) -> &'static str {
    lang.pick("您想咨询的是以下哪个问题？", "Which of these do you mean?")
}

pub fn not_understood(lang: Lang) -> &'static str {
    lang.pick(
        "抱歉，我没能理解您的问题。能换个说法再描述一下吗？例如“USDT 提币 3 小时还没到账”。",
        "Sorry, I didn't understand that. Could you say it another way? For example: \"my USDT withdrawal hasn't arrived after 3 hours\".",
    )
}

pub fn not_understood_maybe(lang: Lang) -> &'static str {
    lang.pick(
        "抱歉，我没能完全理解。能换个说法吗？或者您想问的是下面的问题：",
        "Sorry, I'm not sure I understood. Could you say it another way? Or is it one of these?",
    )
}

pub fn offer_topics(lang: Lang) -> &'static str {
    lang.pick(
        "抱歉，我还是没能理解。您可以从常见问题中选择，或者转人工客服。",
        "Sorry, I still didn't get that. Pick a common topic below, or talk to a person.",
    )
}

pub fn talk_to_human(lang: Lang) -> &'static str {
    lang.pick("转人工客服", "Talk to a person")
}

pub fn empty_message(lang: Lang) -> &'static str {
    lang.pick(
        "请用文字描述您的问题。",
        "Please describe your problem in words.",
    )
}

pub fn session_expired(lang: Lang) -> &'static str {
    lang.pick(
        "上次的对话已超时结束，我们重新开始。",
        "Our previous conversation timed out, so let's start fresh.",
    )
}

pub fn script_changed(lang: Lang) -> &'static str {
    lang.pick(
        "抱歉，这个流程刚刚更新过，我们从头开始，已经告诉我的信息我都记得。",
        "Sorry, this flow was just updated, so let's pick it up from the start. I still have what you told me.",
    )
}

pub fn stale_button(lang: Lang) -> &'static str {
    lang.pick(
        "这个按钮已经失效了。",
        "That button belongs to an earlier message and no longer works.",
    )
}

pub fn cancelled(lang: Lang) -> &'static str {
    lang.pick(
        "好的，已取消。还有什么可以帮您？",
        "OK, cancelled. Is there anything else I can help with?",
    )
}

pub fn nothing_to_cancel(lang: Lang) -> &'static str {
    lang.pick(
        "当前没有进行中的流程。请直接描述您的问题。",
        "There's nothing in progress to cancel. Just tell me what's wrong.",
    )
}

pub fn in_dialog_reminder(lang: Lang) -> &'static str {
    lang.pick(
        "我们继续刚才的问题（输入 /cancel 可取消）：",
        "Let's carry on where we were (type /cancel to stop):",
    )
}

pub fn skip(lang: Lang) -> &'static str {
    lang.pick("跳过", "Skip")
}

pub fn did_it_help(lang: Lang) -> &'static str {
    lang.pick("以上内容解决您的问题了吗？", "Did this solve your problem?")
}

pub fn yes_helped(lang: Lang) -> &'static str {
    lang.pick("已解决", "Yes, solved")
}

pub fn no_helped(lang: Lang) -> &'static str {
    lang.pick("没有，转人工", "No, I need a person")
}

pub fn glad_it_helped(lang: Lang) -> &'static str {
    lang.pick(
        "太好了！还有其他问题随时告诉我。",
        "Great! If anything else comes up, just tell me.",
    )
}

pub fn too_many_tries(lang: Lang) -> &'static str {
    lang.pick(
        "看来这一步不太顺利，我请人工客服来帮您。",
        "This step doesn't seem to be working, so I'll bring in a person to help.",
    )
}

pub fn pick_an_option(lang: Lang) -> &'static str {
    lang.pick(
        "请从下面的选项中选择一个（可以输入序号）。",
        "Please pick one of the options below (you can type its number).",
    )
}

pub fn answer_yes_or_no(lang: Lang) -> &'static str {
    lang.pick("请回答“已解决”或“没有”。", "Please answer yes or no.")
}

/// When an answer is not the kind of value asked for and the dialog gave
/// no hint of its own.
pub fn invalid_value(kind: Option<Kind>, lang: Lang) -> String {
    let (zh, en) = match kind {
        Some(Kind::OrderId) => ("订单号通常是一串至少 6 位的数字或字母数字组合，可以在订单详情中复制。", "An order id is usually a string of at least 6 digits or letters and digits; you can copy it from the order details."),
        Some(Kind::Txid) => ("交易哈希（TXID）是 64 位十六进制字符，可能以 0x 开头，可在提币记录中复制。", "A transaction hash (TXID) is 64 hexadecimal characters, sometimes starting with 0x; copy it from your withdrawal history."),
        Some(Kind::Coin) => ("请告诉我币种代码，例如 USDT、BTC、ETH。", "Please tell me the coin's symbol, for example USDT, BTC or ETH."),
        Some(Kind::Network) => ("请告诉我使用的网络，例如 TRC20、ERC20、BEP20。", "Please tell me the network, for example TRC20, ERC20 or BEP20."),
        Some(Kind::Uid) => ("UID 是 5–12 位数字，可在个人中心查看。", "Your UID is 5–12 digits; you'll find it on your profile page."),
        Some(Kind::Email) => ("请输入有效的邮箱地址，例如 name@example.com。", "Please enter a valid email address, like name@example.com."),
        Some(Kind::Address) => ("请粘贴完整的钱包地址。", "Please paste the full wallet address."),
        Some(Kind::DateTime) => ("请告诉我大概时间，例如“今天 14:30”、“昨天晚上 8 点”或“3 小时前”。", "Please tell me roughly when, e.g. \"today 14:30\", \"yesterday 8pm\" or \"3 hours ago\"."),
        Some(Kind::Amount) => ("请输入金额数字，例如 250 或 250 USDT。", "Please enter the amount as a number, e.g. 250 or 250 USDT."),
        Some(Kind::Text) | None => ("抱歉，这个回答格式不对，请再试一次。", "Sorry, that doesn't look right. Please try again."),
    };
    lang.pick(zh, en).to_string()
}

pub fn switch_topic(title: &str, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("您是想咨询“{title}”吗？要切换到这个问题吗？"),
        Lang::En => format!("It sounds like you're asking about \"{title}\". Switch to that?"),
    }
}

pub fn switch_yes(lang: Lang) -> &'static str {
    lang.pick("是，切换", "Yes, switch")
}

pub fn switch_no(lang: Lang) -> &'static str {
    lang.pick("不，继续当前问题", "No, carry on")
}

pub fn handing_off(lang: Lang) -> &'static str {
    lang.pick(
        "我正在为您转接人工客服，并会把您已经告诉我的信息一并转交，您无需重复描述。",
        "I'm passing this to a human colleague together with everything you've told me, so you won't need to repeat yourself.",
    )
}

pub fn urgent_handoff(lang: Lang) -> &'static str {
    lang.pick(
        "这是紧急安全问题，已为您优先转接人工客服。",
        "This is an urgent security case: I've put you at the front of the queue for a human agent.",
    )
}

pub fn verify_usage(lang: Lang) -> &'static str {
    lang.pick(
        "用法：/verify @对方用户名。我会告诉您这个账号是不是官方客服。",
        "Usage: /verify @handle. I'll tell you whether that account is our official staff.",
    )
}

/// `/verify @handle`: whether the handle is on the official staff list.
pub fn verify(handle: &str, official: bool, lang: Lang) -> String {
    match (official, lang) {
        (true, Lang::Zh) => format!(
            "✅ @{handle} 是我们的官方客服账号。即便如此，官方人员也绝不会索要您的密码、验证码、私钥或助记词，也不会让您转账。"
        ),
        (true, Lang::En) => format!(
            "✅ @{handle} is one of our official staff accounts. Even so, staff never ask for your password, codes, private keys or seed phrase, and never ask you to send funds."
        ),
        (false, Lang::Zh) => format!(
            "⚠️ @{handle} 不在我们的官方客服名单上，很可能是冒充者。官方人员从不主动私信，也绝不会索要密码、验证码、私钥或助记词。请不要转账或提供任何信息，并举报、屏蔽该账号。如果已经泄露了信息，请输入 /human。"
        ),
        (false, Lang::En) => format!(
            "⚠️ @{handle} is NOT on our official staff list and is most likely an impersonator. Our staff never message you first and never ask for passwords, codes, private keys or seed phrases. Don't send anything; report and block the account. If you already shared something, type /human."
        ),
    }
}
