//! Round trips of `kefu::dialog::values`: random amounts, dates and UIDs
//! written the ways users write them (万/千/k, Chinese numerals, both
//! thousands conventions, glued coins, spaced UIDs, relative dates against
//! a fixed now), parsed back to what was written.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use kefu::dialog::values::{chinese_integer, extract, prefill, Kind};
use proptest::prelude::*;

/// Sunday 2026-11-22 15:00.
fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 22)
        .unwrap()
        .and_hms_opt(15, 0, 0)
        .unwrap()
}

fn amount(text: &str) -> Option<String> {
    extract(Kind::Amount, text, now())
}

/// `int` and `frac` (digits, no trailing zeros) as the canonical value.
fn canonical(int: u64, frac: &str) -> String {
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}

/// `int` with `sep` every three digits.
fn grouped(int: u64, sep: char) -> String {
    let digits = int.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A Chinese numeral in the formal style (一万零五, 三千二百, 十五).
fn chinese(n: u64) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    fn section(n: u64) -> String {
        let mut out = String::new();
        let mut zero = false;
        for (unit, name) in [(1000, "千"), (100, "百"), (10, "十"), (1, "")] {
            let d = (n / unit) % 10;
            if d == 0 {
                zero = !out.is_empty();
                continue;
            }
            if zero {
                out.push('零');
                zero = false;
            }
            out.push_str(DIGITS[d as usize]);
            out.push_str(name);
        }
        out
    }
    let (high, low) = (n / 10_000, n % 10_000);
    let mut out = if high > 0 {
        let mut out = section(high) + "万";
        if low > 0 {
            if low < 1000 {
                out.push('零');
            }
            out.push_str(&section(low));
        }
        out
    } else {
        section(low)
    };
    if out.starts_with("一十") {
        out = out.replacen("一十", "十", 1);
    }
    out
}

fn fraction() -> impl Strategy<Value = String> {
    "[0-9]{0,5}[1-9]|".prop_map(|s| s)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn thousands_either_way(int in 1u64..5_000_000_000, frac in fraction()) {
        let expected = canonical(int, &frac);
        let point = if frac.is_empty() { String::new() } else { format!(".{frac}") };
        let comma = if frac.is_empty() { String::new() } else { format!(",{frac}") };
        prop_assert_eq!(amount(&format!("{int}{point}")), Some(expected.clone()));
        prop_assert_eq!(amount(&format!("{}{point}", grouped(int, ','))), Some(expected.clone()));
        // 1.500 alone and 123,456 alone are read as 1.5 and 123456 (see
        // `parse_digits`): the European form is generated where it says
        // which separator is which.
        let dots = grouped(int, '.');
        let ambiguous = (frac.is_empty() && dots.matches('.').count() == 1)
            || (int < 1000 && frac.len() == 3);
        if !ambiguous {
            prop_assert_eq!(amount(&format!("{dots}{comma}")), Some(expected));
        }
    }

    #[test]
    fn multipliers(whole in 1u64..100_000, tenths in 0u64..10) {
        let written = if tenths == 0 { whole.to_string() } else { format!("{whole}.{tenths}") };
        let times = |factor: u64| (whole * 10 + tenths) * factor / 10;
        prop_assert_eq!(amount(&format!("大概{written}万")), Some(times(10_000).to_string()));
        prop_assert_eq!(amount(&format!("about {written}k")), Some(times(1_000).to_string()));
        prop_assert_eq!(amount(&format!("{written}千")), Some(times(1_000).to_string()));
    }

    #[test]
    fn chinese_numerals(n in 1u64..100_000_000) {
        let written = chinese(n);
        prop_assert_eq!(chinese_integer(&written), Some(u128::from(n)), "{}", written);
        prop_assume!(written.chars().count() >= 2);
        prop_assert_eq!(amount(&format!("转了{written}")), Some(n.to_string()), "{}", written);
    }

    /// 一万五 = 15000, 三千二 = 3200: the last digit counts in the next
    /// unit down.
    #[test]
    fn chinese_elided_last_digit(high in 1u64..10, low in 1u64..10, wan in any::<bool>()) {
        let (unit, name) = if wan { (10_000, "万") } else { (1_000, "千") };
        let written = format!("{}{name}{}", chinese(high), chinese(low));
        prop_assert_eq!(chinese_integer(&written), Some(u128::from(high * unit + low * unit / 10)));
    }

    #[test]
    fn glued_coins(int in 1u64..1_000_000, frac in fraction(),
                   coin in prop::sample::select(vec![("u", "USDT"), ("USDT", "USDT"), ("usdt", "USDT"), ("btc", "BTC"), ("ETH", "ETH"), ("trx", "TRX")]),
                   space in any::<bool>()) {
        let number = canonical(int, &frac);
        let gap = if space { " " } else { "" };
        let text = format!("{number}{gap}{}", coin.0);
        let expected = format!("{number} {}", coin.1);
        prop_assert_eq!(amount(&text), Some(expected.clone()));
        prop_assert_eq!(prefill(Kind::Amount, &text, now()), Some(expected));
        prop_assert_eq!(extract(Kind::Coin, &text, now()), Some(coin.1.to_string()));
    }

    #[test]
    fn spaced_uids(uid in "[1-9][0-9]{4,11}", dash in any::<bool>()) {
        let sep = if dash { "-" } else { " " };
        let groups: Vec<String> = uid
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let text = format!("我的uid是 {}", groups.join(sep));
        prop_assert_eq!(extract(Kind::Uid, &text, now()), Some(uid.clone()));
        prop_assert_eq!(prefill(Kind::Uid, &text, now()), Some(uid.clone()));
        prop_assert_eq!(extract(Kind::Uid, &format!("UID: {uid}"), now()), Some(uid));
    }

    #[test]
    fn absolute_dates(back in 0i64..700, hour in 0u32..24, minute in 0u32..60) {
        let at = (now() - Duration::days(back)).date().and_hms_opt(hour, minute, 0).unwrap();
        prop_assume!(at <= now());
        let expected = at.format("%Y-%m-%d %H:%M").to_string();
        let d = |t: String| extract(Kind::DateTime, &t, now());
        prop_assert_eq!(d(at.format("%Y-%m-%d %H:%M").to_string()), Some(expected.clone()));
        prop_assert_eq!(d(format!("{}年{}月{}日 {}:{:02}", at.year(), at.month(), at.day(), hour, minute)), Some(expected));
    }

    #[test]
    fn relative_days_and_parts_of_day(back in 0i64..3, hour in 1u32..24) {
        let day = (now() - Duration::days(back)).date();
        let at = day.and_hms_opt(hour, 0, 0).unwrap();
        prop_assume!(at <= now());
        let expected = Some(at.format("%Y-%m-%d %H:%M").to_string());
        let zh_day = ["今天", "昨天", "前天"][back as usize];
        let en_day = ["today", "yesterday", "the day before yesterday"][back as usize];
        let (part, h12) = match hour {
            1..=5 => ("凌晨", hour),
            6..=11 => ("上午", hour),
            12 => ("中午", 12),
            13..=17 => ("下午", hour - 12),
            _ => ("晚上", hour - 12),
        };
        prop_assert_eq!(extract(Kind::DateTime, &format!("{zh_day}{part}{}点", chinese(u64::from(h12))), now()), expected.clone());
        prop_assert_eq!(extract(Kind::DateTime, &format!("{zh_day}{part}{h12}点"), now()), expected.clone());
        let (h, meridiem) = match hour { 0 => (12, "am"), 1..=11 => (hour, "am"), 12 => (12, "pm"), _ => (hour - 12, "pm") };
        prop_assert_eq!(extract(Kind::DateTime, &format!("{en_day} around {h}{meridiem}"), now()), expected);
    }

    #[test]
    fn days_and_hours_ago(n in 1i64..60, hours in any::<bool>()) {
        let (expected, zh, en) = if hours {
            (now() - Duration::hours(n), format!("{}个小时前", chinese(n as u64)), format!("{n} hours ago"))
        } else {
            (now() - Duration::days(n), format!("{}天前", chinese(n as u64)), format!("{n} days ago"))
        };
        let expected = Some(expected.format("%Y-%m-%d %H:%M").to_string());
        prop_assert_eq!(extract(Kind::DateTime, &zh, now()), expected.clone());
        prop_assert_eq!(extract(Kind::DateTime, &en, now()), expected);
    }

    #[test]
    fn last_week_days(weekday in 0u32..7) {
        const ZH: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
        const EN: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
        let zh = extract(Kind::DateTime, &format!("上周{}", ZH[weekday as usize]), now()).unwrap();
        let zh = NaiveDateTime::parse_from_str(&zh, "%Y-%m-%d %H:%M").unwrap();
        // The previous Monday-to-Sunday week: 2026-11-09 to 2026-11-15.
        prop_assert_eq!(zh.date(), NaiveDate::from_ymd_opt(2026, 11, 9 + weekday).unwrap());
        prop_assert_eq!(zh.hour(), 0);
        let en = extract(Kind::DateTime, &format!("last {}", EN[weekday as usize]), now()).unwrap();
        let en = NaiveDateTime::parse_from_str(&en, "%Y-%m-%d %H:%M").unwrap();
        prop_assert_eq!(en.weekday().num_days_from_monday(), weekday);
        prop_assert!(en.date() < now().date() && now().date() - en.date() <= Duration::days(7));
    }

    /// Whatever is typed, no parser panics.
    #[test]
    fn never_panics(text in "\\PC{0,40}") {
        for kind in Kind::ALL {
            let _ = extract(kind, &text, now());
            let _ = prefill(kind, &text, now());
        }
    }
}
