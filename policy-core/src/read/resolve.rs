//! What a YAML scalar means to kubectl.
//!
//! kubectl and the API server turn YAML into JSON with sigs.k8s.io/yaml (`YAMLToJSON`, yaml.go
//! lines 146–179 @aadfabb), which decodes with go-yaml v2 (go.yaml.in/yaml/v2 v2.4.2, the `v2`
//! branch of github.com/go-yaml/yaml @7649d45). That is YAML 1.1, not 1.2:
//! - plain scalars resolve by `resolve()` in `resolve.go` lines 86–197: the bool words
//!   `y Y yes Yes YES n N no No NO on On ON off Off OFF true True TRUE false False FALSE`
//!   (lines 37–42), null as `` (empty) `~ null Null NULL` (line 43), `.nan`/`.inf` (lines 44–47),
//!   `<<` (line 48); a first character outside `+-0-9yYnNtTfFoO~.` is always a string
//!   (lines 20–30, 114–118);
//! - numbers (lines 139–191): `_` is removed, then Go's `strconv.ParseInt(s, 0, 64)` (so `0400`
//!   is octal 256, `0x1F` hex, `0o17`, `0b101`), then `ParseUint`, then a float matching
//!   `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` (line 84; `08` is the float 8, an
//!   overflowing `1e400` stays a string);
//! - timestamps resolve but are kept as their text when decoding into `interface{}`
//!   (`decode.go` lines 474–480), so they stay strings here;
//! - quoted and block scalars without a tag are strings (`decode.go` lines 414–416); an explicit
//!   tag is resolved and must agree (`resolve.go` lines 91–110, `!!float` accepts an int), and
//!   `!!binary` is base64-decoded (`decode.go` lines 419–425); any other tag leaves the text.
//!
//! Map keys become JSON member names as `convertToJSONableObject` does (yaml.go lines 208–250):
//! ints in decimal, floats with `FormatFloat(f, 'g', -1, 32)`, bools as `true`/`false`; a null
//! or out-of-range key is refused.
// Without YAML only the JSON reader uses this module (scalars and float formatting).
#![cfg_attr(not(feature = "yaml"), allow(dead_code))]

/// A scalar as kubectl reads it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    /// `null`, `~`, empty.
    Null,
    /// A YAML 1.1 bool word.
    Bool(bool),
    /// An integer that fits in i64.
    Int(i64),
    /// An integer above `i64::MAX` that fits in u64.
    Uint(u64),
    /// A float (also NaN and the infinities, which JSON cannot carry).
    Float(f64),
    /// Text.
    Str(String),
}

/// The long form of the core tags (`!!int` is `tag:yaml.org,2002:int`).
pub(crate) const CORE_TAG: &str = "tag:yaml.org,2002:";

/// Resolves a plain (unquoted, untagged) scalar as go-yaml v2 does.
pub(crate) fn plain(s: &str) -> Scalar {
    match hint(s) {
        Hint::Never => Scalar::Str(s.to_owned()),
        Hint::Word => word(s).unwrap_or_else(|| Scalar::Str(s.to_owned())),
        Hint::Dot => word(s)
            .or_else(|| dot_float(s).map(Scalar::Float))
            .unwrap_or_else(|| Scalar::Str(s.to_owned())),
        Hint::Number => word(s)
            .or_else(|| number(s))
            .unwrap_or_else(|| Scalar::Str(s.to_owned())),
    }
}

/// Resolves a scalar with an explicit tag (`!!int 12`, `!!str yes`, `!!binary …`). `Err` is
/// go-yaml's complaint, e.g. "cannot decode !!str `abc` as a !!int".
pub(crate) fn tagged(tag: &str, s: &str) -> Result<Scalar, String> {
    let Some(short) = tag.strip_prefix(CORE_TAG) else {
        // A local or unknown tag (`!foo`, `!`): not resolvable, the text is kept (line 87).
        return Ok(Scalar::Str(s.to_owned()));
    };
    let resolved = || plain(s);
    let mismatch = |got: &Scalar| {
        Err(format!(
            "cannot decode !!{} `{s}` as a !!{short}",
            kind_name(got)
        ))
    };
    match short {
        "str" => Ok(Scalar::Str(s.to_owned())),
        "binary" => binary(s).map(Scalar::Str),
        "bool" => match resolved() {
            b @ Scalar::Bool(_) => Ok(b),
            other => mismatch(&other),
        },
        "null" => match resolved() {
            Scalar::Null => Ok(Scalar::Null),
            other => mismatch(&other),
        },
        "int" => match resolved() {
            i @ (Scalar::Int(_) | Scalar::Uint(_)) => Ok(i),
            other => mismatch(&other),
        },
        "float" => match resolved() {
            f @ Scalar::Float(_) => Ok(f),
            Scalar::Int(i) => Ok(Scalar::Float(i as f64)),
            Scalar::Uint(u) => Ok(Scalar::Float(u as f64)),
            other => mismatch(&other),
        },
        // Timestamps are kept as text when decoded into `interface{}` (decode.go 474–480).
        "timestamp" => {
            if looks_like_timestamp(s) {
                Ok(Scalar::Str(s.to_owned()))
            } else {
                mismatch(&resolved())
            }
        }
        // `!!map`, `!!seq` on a scalar, `!!merge`, `!!python/…`: not resolvable, text kept.
        _ => Ok(Scalar::Str(s.to_owned())),
    }
}

fn kind_name(s: &Scalar) -> &'static str {
    match s {
        Scalar::Null => "null",
        Scalar::Bool(_) => "bool",
        Scalar::Int(_) | Scalar::Uint(_) => "int",
        Scalar::Float(_) => "float",
        Scalar::Str(_) => "str",
    }
}

#[derive(Clone, Copy)]
enum Hint {
    Never,
    Word,
    Dot,
    Number,
}

/// `resolveTable` (resolve.go lines 20–30); the empty scalar looks up the map (`'N'`).
fn hint(s: &str) -> Hint {
    match s.as_bytes().first() {
        None => Hint::Word,
        Some(b'+' | b'-' | b'0'..=b'9') => Hint::Number,
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => {
            Hint::Word
        }
        Some(b'.') => Hint::Dot,
        Some(_) => Hint::Never,
    }
}

/// `resolveMap` (resolve.go lines 37–48), without `<<` (merge keys are handled by the reader).
fn word(s: &str) -> Option<Scalar> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Scalar::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Scalar::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Scalar::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// A scalar starting with `.`: `strconv.ParseFloat(in, 64)` (resolve.go lines 132–137). Go
/// accepts `_` between digits there.
fn dot_float(s: &str) -> Option<f64> {
    let digits = strip_underscores_between_digits(s)?;
    let rest = digits.strip_prefix('.')?;
    let (frac, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    finite(digits.parse::<f64>().ok()?)
}

/// Go's `underscoreOK` for a decimal float: `_` only between digits. Returns the text without
/// them.
fn strip_underscores_between_digits(s: &str) -> Option<String> {
    if !s.contains('_') {
        return Some(s.to_owned());
    }
    let b = s.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if *c == b'_' {
            let before = i.checked_sub(1).and_then(|j| b.get(j));
            let after = b.get(i + 1);
            if !before.is_some_and(u8::is_ascii_digit) || !after.is_some_and(u8::is_ascii_digit) {
                return None;
            }
        }
    }
    Some(s.replace('_', ""))
}

/// An overflowing float is an error in Go (`ErrRange`), so the scalar stays a string.
fn finite(f: f64) -> Option<f64> {
    f.is_finite().then_some(f)
}

/// Int, uint or float for a scalar starting with a sign or digit (resolve.go lines 139–191).
fn number(s: &str) -> Option<Scalar> {
    let plain = s.replace('_', "");
    if let Some(i) = go_parse_int(&plain) {
        return Some(Scalar::Int(i));
    }
    if let Some(u) = go_parse_uint(&plain) {
        return Some(Scalar::Uint(u));
    }
    if yaml_style_float(&plain) {
        return plain
            .parse::<f64>()
            .ok()
            .and_then(finite)
            .map(Scalar::Float);
    }
    // The `0b`/`-0b` branches (lines 169–191) only repeat what ParseInt with base 0 accepts.
    None
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` (resolve.go line 84).
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, then `ParseUint` with base 0.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(digits)?;
    if neg {
        if u <= i64::MAX as u64 {
            Some(-(u as i64))
        } else if u == i64::MAX as u64 + 1 {
            Some(i64::MIN)
        } else {
            None
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: `0x`/`0o`/`0b` prefixes (three characters at least), a
/// leading `0` for octal, no sign.
fn go_parse_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (radix, digits) = if b[0] == b'0' {
        match b.get(1).map(u8::to_ascii_lowercase) {
            Some(b'b') if b.len() >= 3 => (2, &s[2..]),
            Some(b'o') if b.len() >= 3 => (8, &s[2..]),
            Some(b'x') if b.len() >= 3 => (16, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    let mut n: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        n = n.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// `!!binary`: standard base64, whitespace (line breaks) ignored as go-yaml's scanner folds it.
fn binary(s: &str) -> Result<String, String> {
    let bad = || String::from("!!binary value contains invalid base64 data");
    let mut bits: u32 = 0;
    let mut nbits = 0u32;
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut pad = 0usize;
    let mut count = 0usize;
    for c in s.bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        count += 1;
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            _ => return Err(bad()),
        };
        if pad > 0 {
            return Err(bad());
        }
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    if count % 4 != 0 || pad > 2 || bits != 0 {
        return Err(bad());
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// go-yaml's quick check before trying timestamp layouts: four digits and a `-`.
fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// A float as Go's `encoding/json` writes it: shortest digits, `e` notation below 1e-6 and from
/// 1e21 (`encode.go` `floatEncoder`), `1e+21` and `1e-7` exponents.
pub(crate) fn json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    } else {
        format!("{f}")
    }
}

/// A float map key as `strconv.FormatFloat(f, 'g', -1, 32)` writes it.
pub(crate) fn float_key(f: f64) -> String {
    let x = f as f32;
    if x.is_nan() {
        return ".nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{x:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if neg { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.abs())
    } else if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        format!("{sign}0.{zeros}{digits}")
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
        } else {
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Scalar::*;

    fn s(x: &str) -> Scalar {
        Str(x.to_owned())
    }

    /// One row per resolution rule of go-yaml v2 `resolve.go` (@7649d45) and sigs.k8s.io/yaml;
    /// the line numbers name the rule.
    #[test]
    fn plain_scalars_resolve_as_go_yaml_v2() {
        let table: &[(&str, Scalar, &str)] = &[
            // lines 37–42: bool words, case-sensitive spellings only
            ("y", Bool(true), "37"),
            ("Y", Bool(true), "37"),
            ("yes", Bool(true), "37"),
            ("Yes", Bool(true), "37"),
            ("YES", Bool(true), "37"),
            ("yEs", s("yEs"), "37: other spellings are strings"),
            ("true", Bool(true), "38"),
            ("True", Bool(true), "38"),
            ("TRUE", Bool(true), "38"),
            ("on", Bool(true), "39"),
            ("On", Bool(true), "39"),
            ("ON", Bool(true), "39"),
            ("n", Bool(false), "40"),
            ("N", Bool(false), "40"),
            ("no", Bool(false), "40"),
            ("No", Bool(false), "40"),
            ("NO", Bool(false), "40"),
            ("false", Bool(false), "41"),
            ("False", Bool(false), "41"),
            ("FALSE", Bool(false), "41"),
            ("off", Bool(false), "42"),
            ("Off", Bool(false), "42"),
            ("OFF", Bool(false), "42"),
            // line 43: null
            ("", Null, "43"),
            ("~", Null, "43"),
            ("null", Null, "43"),
            ("Null", Null, "43"),
            ("NULL", Null, "43"),
            ("nULL", s("nULL"), "43"),
            // lines 44–47: NaN and infinities
            (".inf", Float(f64::INFINITY), "45"),
            ("+.Inf", Float(f64::INFINITY), "46"),
            ("-.INF", Float(f64::NEG_INFINITY), "47"),
            // lines 114–118: a first character outside the table is always a string
            ("abc", s("abc"), "118"),
            ("_1", s("_1"), "118"),
            ("<<", s("<<"), "48: merge keys are the reader's business"),
            // lines 132–137: a leading dot
            (".5", Float(0.5), "134"),
            (".5e3", Float(500.0), "134"),
            (".5_5", Float(0.55), "134: Go accepts _ between digits"),
            (".", s("."), "134"),
            (".e5", s(".e5"), "134"),
            // lines 150–158: ParseInt with base 0 after removing `_`
            ("0", Int(0), "151"),
            ("12", Int(12), "151"),
            ("+12", Int(12), "151"),
            ("-12", Int(-12), "151"),
            ("0400", Int(256), "151: leading 0 is octal"),
            ("0777", Int(511), "151"),
            ("0o17", Int(15), "151"),
            ("0O17", Int(15), "151"),
            ("0x1F", Int(31), "151"),
            ("0X1f", Int(31), "151"),
            ("-0x10", Int(-16), "151"),
            ("0b101", Int(5), "151"),
            ("1_000", Int(1000), "150"),
            ("1_", Int(1), "150: every `_` is removed"),
            ("-9223372036854775808", Int(i64::MIN), "151"),
            // lines 159–162: ParseUint above i64
            ("9223372036854775808", Uint(9223372036854775808), "159"),
            ("18446744073709551615", Uint(u64::MAX), "159"),
            // lines 163–168: yamlStyleFloat
            ("08", Float(8.0), "163: not octal, but a float"),
            ("1.5", Float(1.5), "163"),
            ("1.", Float(1.0), "163"),
            ("-.5", Float(-0.5), "163"),
            ("1e3", Float(1000.0), "163"),
            ("1E-2", Float(0.01), "163"),
            ("18446744073709551616", Float(18446744073709551616.0), "163"),
            (
                "1e400",
                s("1e400"),
                "165: overflow is an error, the text stays",
            ),
            ("0x", s("0x"), "151"),
            ("0xG", s("0xG"), "151"),
            ("1.2.3", s("1.2.3"), "163"),
            ("1:20", s("1:20"), "124: no base 60"),
            (
                "2001-12-14",
                s("2001-12-14"),
                "decode.go 474: timestamps stay text",
            ),
            ("-", s("-"), "151"),
            ("+", s("+"), "151"),
            ("12abc", s("12abc"), "151"),
        ];
        for (input, want, rule) in table {
            let got = plain(input);
            let same = match (&got, want) {
                (Float(a), Float(b)) => a == b || (a.is_nan() && b.is_nan()),
                _ => &got == want,
            };
            assert!(same, "`{input}` (line {rule}): got {got:?}, want {want:?}");
        }
        assert!(matches!(plain(".NaN"), Float(f) if f.is_nan()));
    }

    #[test]
    fn tags_resolve_and_must_agree() {
        let c = |t: &str| format!("{CORE_TAG}{t}");
        assert_eq!(tagged(&c("str"), "yes"), Ok(s("yes")));
        assert_eq!(tagged(&c("int"), "0x10"), Ok(Int(16)));
        assert_eq!(tagged(&c("float"), "1"), Ok(Float(1.0)));
        assert_eq!(tagged(&c("bool"), "yes"), Ok(Bool(true)));
        assert_eq!(tagged(&c("null"), "~"), Ok(Null));
        assert_eq!(
            tagged(&c("int"), "abc"),
            Err("cannot decode !!str `abc` as a !!int".into())
        );
        assert_eq!(
            tagged(&c("int"), "1.5"),
            Err("cannot decode !!float `1.5` as a !!int".into())
        );
        assert_eq!(
            tagged(&c("binary"), "cW9zLmNvcmV3ZWF2ZS5jbG91ZC9pbnRlcnJ1cHRhYmxl"),
            Ok(s("qos.coreweave.cloud/interruptable"))
        );
        assert_eq!(tagged(&c("binary"), "aGk=\n"), Ok(s("hi")));
        assert!(tagged(&c("binary"), "a?==").is_err());
        assert!(tagged(&c("binary"), "aGk").is_err());
        assert_eq!(tagged("!foo", "12"), Ok(s("12")));
        assert_eq!(tagged("!", "yes"), Ok(s("yes")));
        assert_eq!(tagged(&c("timestamp"), "2001-12-14"), Ok(s("2001-12-14")));
    }

    /// Go's `encoding/json` float format (`encode.go` floatEncoder) and `FormatFloat(…, 'g', -1,
    /// 32)` for keys (sigs.k8s.io/yaml yaml.go line 227).
    #[test]
    fn floats_print_as_go_does() {
        assert_eq!(json_float(8.0), "8");
        assert_eq!(json_float(1.5), "1.5");
        assert_eq!(json_float(-1e20), "-100000000000000000000");
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(json_float(1.5e-7), "1.5e-7");
        assert_eq!(json_float(0.000001), "0.000001");
        assert_eq!(float_key(1.5), "1.5");
        assert_eq!(float_key(123456.0), "123456");
        assert_eq!(float_key(1e6), "1e+06");
        assert_eq!(float_key(0.0001), "0.0001");
        assert_eq!(float_key(0.00001), "1e-05");
        assert_eq!(float_key(0.1), "0.1");
        assert_eq!(float_key(f64::INFINITY), ".inf");
    }
}
