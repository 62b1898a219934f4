//! Property tests: arbitrary message trees round-trip through the encoder and
//! the parser byte for byte; encoding into any buffer size is all-or-nothing;
//! arbitrary bytes never make any entry point panic.
//!
//! Leaf AVP types are told apart on parse by code ranges that a small test
//! dictionary ([`TestDict`]) maps onto data types.

use diameter_core::answer::{error_answer, Identity};
use diameter_core::dict::{base, AvpInfo, FlagRule, FlagRules, Grammar};
use diameter_core::header::{CommandFlags, HEADER_LEN};
use diameter_core::message::AvpSet;
use diameter_core::types::{
    Address, AvpType, DataType, DiameterIdentity, DiameterUri, Enumerated, Float32, Float64,
    Integer32, Integer64, OctetString, Time, Unsigned32, Unsigned64, Utf8String,
};
use diameter_core::{
    AddressValue, ApplicationId, Avp, AvpDef, AvpFlags, CommandCode, Dictionary, EncodeError,
    Error, Framer, HeaderRepr, Message, MessageBuilder, Timestamp,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Test dictionary: code ranges decide the data type.

/// Grouped AVPs use codes `GROUPED_BASE..GROUPED_BASE + RANGE`.
const GROUPED_BASE: u32 = 60_000;
/// Leaf type `i` (index into [`LEAF_TYPES`]) uses `LEAF_BASE + 100 * i ..+ RANGE`.
const LEAF_BASE: u32 = 61_000;
const RANGE: u32 = 100;

const ANY_FLAGS: FlagRules = FlagRules {
    m: FlagRule::May,
    v: FlagRule::May,
    p: FlagRule::MustNot,
};

const fn info(code: u32, name: &'static str, data_type: DataType) -> AvpInfo {
    AvpInfo {
        code,
        vendor: 0,
        name,
        data_type,
        flags: ANY_FLAGS,
        grammar: Grammar::EMPTY,
        values: &[],
    }
}

static GROUPED_INFO: AvpInfo = info(GROUPED_BASE, "Test-Grouped", DataType::Grouped);

/// The leaf types in code-range order.
static LEAF_TYPES: [AvpInfo; 13] = [
    info(LEAF_BASE, "Test-OctetString", DataType::OctetString),
    info(LEAF_BASE + 100, "Test-Integer32", DataType::Integer32),
    info(LEAF_BASE + 200, "Test-Integer64", DataType::Integer64),
    info(LEAF_BASE + 300, "Test-Unsigned32", DataType::Unsigned32),
    info(LEAF_BASE + 400, "Test-Unsigned64", DataType::Unsigned64),
    info(LEAF_BASE + 500, "Test-Float32", DataType::Float32),
    info(LEAF_BASE + 600, "Test-Float64", DataType::Float64),
    info(LEAF_BASE + 700, "Test-Address", DataType::Address),
    info(LEAF_BASE + 800, "Test-Time", DataType::Time),
    info(LEAF_BASE + 900, "Test-UTF8String", DataType::Utf8String),
    info(
        LEAF_BASE + 1000,
        "Test-DiameterIdentity",
        DataType::DiameterIdentity,
    ),
    info(LEAF_BASE + 1100, "Test-DiameterURI", DataType::DiameterUri),
    info(LEAF_BASE + 1200, "Test-Enumerated", DataType::Enumerated),
];

/// Knows the test code ranges (for any vendor) and no commands.
struct TestDict;

impl Dictionary for TestDict {
    fn avp(&self, code: u32, _vendor: u32) -> Option<&'static AvpInfo> {
        if (GROUPED_BASE..GROUPED_BASE + RANGE).contains(&code) {
            return Some(&GROUPED_INFO);
        }
        let i = code.checked_sub(LEAF_BASE)?;
        if i % 100 >= RANGE {
            return None;
        }
        LEAF_TYPES.get((i / 100) as usize)
    }
    fn command(&self, _: CommandCode, _: bool) -> Option<&'static diameter_core::dict::CommandDef> {
        None
    }
}

// ---------------------------------------------------------------------------
// The generated model.

#[derive(Debug, Clone, PartialEq)]
enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
    Other(u16, Vec<u8>),
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Octets(Vec<u8>),
    I32(i32),
    I64(i64),
    U32(u32),
    U64(u64),
    /// Bit pattern (NaNs included).
    F32(u32),
    /// Bit pattern (NaNs included).
    F64(u64),
    Addr(Addr),
    Time(u32),
    Utf8(String),
    Ident(String),
    Uri(String),
    Enum(i32),
}

impl Val {
    /// Index into [`LEAF_TYPES`].
    fn type_index(&self) -> u32 {
        match self {
            Val::Octets(_) => 0,
            Val::I32(_) => 1,
            Val::I64(_) => 2,
            Val::U32(_) => 3,
            Val::U64(_) => 4,
            Val::F32(_) => 5,
            Val::F64(_) => 6,
            Val::Addr(_) => 7,
            Val::Time(_) => 8,
            Val::Utf8(_) => 9,
            Val::Ident(_) => 10,
            Val::Uri(_) => 11,
            Val::Enum(_) => 12,
        }
    }
}

#[derive(Debug, Clone)]
enum Node {
    Leaf {
        /// Offset within the type's code range.
        sub: u32,
        vendor: u32,
        m: bool,
        val: Val,
    },
    Group {
        sub: u32,
        vendor: u32,
        m: bool,
        children: Vec<Node>,
    },
}

impl Node {
    fn code(&self) -> u32 {
        match self {
            Node::Leaf { sub, val, .. } => LEAF_BASE + 100 * val.type_index() + sub,
            Node::Group { sub, .. } => GROUPED_BASE + sub,
        }
    }
    fn vendor(&self) -> u32 {
        match self {
            Node::Leaf { vendor, .. } | Node::Group { vendor, .. } => *vendor,
        }
    }
    fn flags(&self) -> AvpFlags {
        let (vendor, m) = match self {
            Node::Leaf { vendor, m, .. } | Node::Group { vendor, m, .. } => (*vendor, *m),
        };
        let mut f = 0;
        if vendor != 0 {
            f |= AvpFlags::VENDOR.0;
        }
        if m {
            f |= AvpFlags::MANDATORY.0;
        }
        AvpFlags(f)
    }
}

#[derive(Debug, Clone)]
struct Msg {
    header: HeaderRepr,
    avps: Vec<Node>,
}

// ---------------------------------------------------------------------------
// Strategies.

fn val_strategy() -> impl Strategy<Value = Val> {
    let addr = prop_oneof![
        any::<[u8; 4]>().prop_map(Addr::V4),
        any::<[u8; 16]>().prop_map(Addr::V6),
        (
            any::<u16>().prop_filter("not 1 or 2", |f| *f != 1 && *f != 2),
            proptest::collection::vec(any::<u8>(), 0..20)
        )
            .prop_map(|(f, b)| Addr::Other(f, b)),
    ];
    let uri = (
        any::<bool>(),
        "[a-z0-9][a-z0-9._-]{0,20}",
        proptest::option::of(any::<u16>()),
        proptest::option::of(prop_oneof![Just("tcp"), Just("sctp"), Just("udp")]),
        proptest::option::of(prop_oneof![
            Just("diameter"),
            Just("radius"),
            Just("tacacs+")
        ]),
    )
        .prop_map(|(secure, host, port, transport, protocol)| {
            let mut s = String::from(if secure { "aaas://" } else { "aaa://" });
            s.push_str(&host);
            if let Some(p) = port {
                s.push_str(&format!(":{p}"));
            }
            if let Some(t) = transport {
                s.push_str(";transport=");
                s.push_str(t);
            }
            if let Some(p) = protocol {
                s.push_str(";protocol=");
                s.push_str(p);
            }
            s
        });
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Val::Octets),
        any::<i32>().prop_map(Val::I32),
        any::<i64>().prop_map(Val::I64),
        any::<u32>().prop_map(Val::U32),
        any::<u64>().prop_map(Val::U64),
        any::<u32>().prop_map(Val::F32),
        any::<u64>().prop_map(Val::F64),
        addr.prop_map(Val::Addr),
        any::<u32>().prop_map(Val::Time),
        proptest::collection::vec(any::<char>(), 0..16)
            .prop_map(|c| Val::Utf8(c.into_iter().collect())),
        "[!-~]{1,30}".prop_map(Val::Ident),
        uri.prop_map(Val::Uri),
        any::<i32>().prop_map(Val::Enum),
    ]
}

fn vendor_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![3 => Just(0u32), 1 => Just(10415u32), 1 => any::<u32>()]
}

fn node_strategy() -> impl Strategy<Value = Node> {
    let leaf = (0..RANGE, vendor_strategy(), any::<bool>(), val_strategy()).prop_map(
        |(sub, vendor, m, val)| Node::Leaf {
            sub,
            vendor,
            m,
            val,
        },
    );
    leaf.prop_recursive(6, 48, 5, |inner| {
        (
            0..RANGE,
            vendor_strategy(),
            any::<bool>(),
            proptest::collection::vec(inner, 0..5),
        )
            .prop_map(|(sub, vendor, m, children)| Node::Group {
                sub,
                vendor,
                m,
                children,
            })
    })
}

fn header_strategy() -> impl Strategy<Value = HeaderRepr> {
    (
        0u32..(1 << 24),
        any::<u32>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(code, app, r, p, e, t, hbh, e2e)| {
            let mut flags = CommandFlags(0);
            flags = flags.with(CommandFlags::REQUEST, r);
            flags = flags.with(CommandFlags::PROXIABLE, p);
            // E only on answers.
            flags = flags.with(CommandFlags::ERROR, e && !r);
            flags = flags.with(CommandFlags::RETRANSMIT, t);
            HeaderRepr {
                flags,
                command_code: CommandCode(code),
                application_id: ApplicationId(app),
                hop_by_hop: hbh,
                end_to_end: e2e,
            }
        })
}

fn msg_strategy() -> impl Strategy<Value = Msg> {
    (
        header_strategy(),
        proptest::collection::vec(node_strategy(), 0..8),
    )
        .prop_map(|(header, avps)| Msg { header, avps })
}

// ---------------------------------------------------------------------------
// Encoding the model.

fn def<T: AvpType>(n: &Node) -> AvpDef<T> {
    AvpDef::new(n.code(), n.vendor(), "test", ANY_FLAGS)
}

fn put_nodes(b: &mut MessageBuilder<'_>, nodes: &[Node]) {
    for n in nodes {
        let flags = n.flags();
        match n {
            Node::Group { children, .. } => {
                let vendor = (n.vendor() != 0).then_some(n.vendor());
                b.grouped_raw(n.code(), vendor, flags, |g| put_nodes(g, children));
            }
            Node::Leaf { val, .. } => {
                match val {
                    Val::Octets(v) => b.put_with_flags(&def::<OctetString>(n), flags, v),
                    Val::I32(v) => b.put_with_flags(&def::<Integer32>(n), flags, *v),
                    Val::I64(v) => b.put_with_flags(&def::<Integer64>(n), flags, *v),
                    Val::U32(v) => b.put_with_flags(&def::<Unsigned32>(n), flags, *v),
                    Val::U64(v) => b.put_with_flags(&def::<Unsigned64>(n), flags, *v),
                    Val::F32(v) => b.put_with_flags(&def::<Float32>(n), flags, f32::from_bits(*v)),
                    Val::F64(v) => b.put_with_flags(&def::<Float64>(n), flags, f64::from_bits(*v)),
                    Val::Addr(a) => {
                        let av = match a {
                            Addr::V4(x) => AddressValue::V4(*x),
                            Addr::V6(x) => AddressValue::V6(*x),
                            Addr::Other(family, bytes) => AddressValue::Other {
                                family: *family,
                                bytes,
                            },
                        };
                        b.put_with_flags(&def::<Address>(n), flags, av)
                    }
                    Val::Time(t) => b.put_with_flags(&def::<Time>(n), flags, Timestamp(*t)),
                    Val::Utf8(s) => b.put_with_flags(&def::<Utf8String>(n), flags, s.as_str()),
                    Val::Ident(s) => {
                        b.put_with_flags(&def::<DiameterIdentity>(n), flags, s.as_str())
                    }
                    Val::Uri(s) => {
                        let u = diameter_core::Uri::parse(s).expect("generated URI parses");
                        b.put_with_flags(&def::<DiameterUri>(n), flags, u)
                    }
                    Val::Enum(v) => b.put_with_flags(&def::<Enumerated<i32>>(n), flags, *v),
                };
            }
        }
    }
}

fn encode_into<'b>(m: &Msg, buf: &'b mut [u8]) -> Result<&'b [u8], EncodeError> {
    let mut b = MessageBuilder::new(buf, m.header);
    put_nodes(&mut b, &m.avps);
    b.finish()
}

fn encode(m: &Msg) -> Vec<u8> {
    let mut buf = vec![0u8; 1 << 16];
    encode_into(m, &mut buf).expect("fits in 64 KiB").to_vec()
}

/// Encoded size of the model computed independently of the encoder.
fn model_len(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .map(|n| {
            let hdr = if n.vendor() != 0 { 12 } else { 8 };
            let data = match n {
                Node::Group { children, .. } => model_len(children),
                Node::Leaf { val, .. } => match val {
                    Val::Octets(v) => v.len(),
                    Val::I32(_) | Val::U32(_) | Val::F32(_) | Val::Time(_) | Val::Enum(_) => 4,
                    Val::I64(_) | Val::U64(_) | Val::F64(_) => 8,
                    Val::Addr(Addr::V4(_)) => 6,
                    Val::Addr(Addr::V6(_)) => 18,
                    Val::Addr(Addr::Other(_, b)) => 2 + b.len(),
                    Val::Utf8(s) | Val::Ident(s) | Val::Uri(s) => s.len(),
                },
            };
            (hdr + data + 3) & !3
        })
        .sum()
}

// ---------------------------------------------------------------------------
// Comparing a parsed set with the model.

fn check_value(avp: &Avp<'_>, val: &Val) -> Result<(), TestCaseError> {
    fn d<'a, T: AvpType>(avp: &Avp<'a>) -> Result<T::Value<'a>, TestCaseError> {
        diameter_core::message::decode_avp::<T>(avp)
            .map_err(|e| TestCaseError::fail(format!("decode of {avp:?} failed: {e}")))
    }
    match val {
        Val::Octets(v) => prop_assert_eq!(d::<OctetString>(avp)?, &v[..]),
        Val::I32(v) => prop_assert_eq!(d::<Integer32>(avp)?, *v),
        Val::I64(v) => prop_assert_eq!(d::<Integer64>(avp)?, *v),
        Val::U32(v) => prop_assert_eq!(d::<Unsigned32>(avp)?, *v),
        Val::U64(v) => prop_assert_eq!(d::<Unsigned64>(avp)?, *v),
        Val::F32(v) => prop_assert_eq!(d::<Float32>(avp)?.to_bits(), *v),
        Val::F64(v) => prop_assert_eq!(d::<Float64>(avp)?.to_bits(), *v),
        Val::Addr(a) => {
            let got = d::<Address>(avp)?;
            match (a, got) {
                (Addr::V4(x), AddressValue::V4(y)) => prop_assert_eq!(*x, y),
                (Addr::V6(x), AddressValue::V6(y)) => prop_assert_eq!(*x, y),
                (Addr::Other(f, b), AddressValue::Other { family, bytes }) => {
                    prop_assert_eq!(*f, family);
                    prop_assert_eq!(&b[..], bytes);
                }
                (a, got) => prop_assert!(false, "address {a:?} decoded as {got:?}"),
            }
        }
        Val::Time(t) => prop_assert_eq!(d::<Time>(avp)?, Timestamp(*t)),
        Val::Utf8(s) => prop_assert_eq!(d::<Utf8String>(avp)?, s.as_str()),
        Val::Ident(s) => prop_assert_eq!(d::<DiameterIdentity>(avp)?, s.as_str()),
        Val::Uri(s) => {
            let u = d::<DiameterUri>(avp)?;
            prop_assert_eq!(u.raw, s.as_str());
            prop_assert_eq!(Some(u), diameter_core::Uri::parse(s));
        }
        Val::Enum(v) => prop_assert_eq!(d::<Enumerated<i32>>(avp)?, *v),
    }
    Ok(())
}

fn compare(set: AvpSet<'_>, nodes: &[Node], msg_len: usize) -> Result<(), TestCaseError> {
    let mut it = set.iter();
    for (i, n) in nodes.iter().enumerate() {
        let avp = match it.next() {
            Some(Ok(a)) => a,
            other => return Err(TestCaseError::fail(format!("AVP #{i}: got {other:?}"))),
        };
        prop_assert_eq!(avp.code(), n.code());
        prop_assert_eq!(avp.vendor(), n.vendor());
        prop_assert_eq!(avp.flags(), n.flags());
        prop_assert!(avp.offset() % 4 == 0 && avp.offset() + avp.len() <= msg_len);
        prop_assert_eq!(
            TestDict.avp(avp.code(), avp.vendor()).map(|i| i.data_type),
            Some(if matches!(n, Node::Group { .. }) {
                DataType::Grouped
            } else {
                LEAF_TYPES[(avp.code() - LEAF_BASE) as usize / 100].data_type
            })
        );
        match n {
            Node::Leaf { val, .. } => check_value(&avp, val)?,
            Node::Group { children, .. } => {
                // Both ways of getting the content must agree.
                let via_type =
                    diameter_core::message::decode_avp::<diameter_core::types::Grouped>(&avp)
                        .map_err(|e| TestCaseError::fail(format!("{e}")))?;
                prop_assert_eq!(via_type, avp.group_set());
                compare(avp.group_set(), children, msg_len)?;
            }
        }
    }
    prop_assert!(it.next().is_none(), "more AVPs than in the model");
    Ok(())
}

/// Re-encode a parsed set: leaves copied with `put_avp`, groups rebuilt.
fn reencode(b: &mut MessageBuilder<'_>, set: AvpSet<'_>) {
    for avp in set.iter() {
        let avp = avp.expect("already parsed");
        let grouped = TestDict
            .avp(avp.code(), avp.vendor())
            .is_some_and(|i| i.data_type == DataType::Grouped);
        if grouped {
            let vendor = avp.flags().is_vendor().then_some(avp.vendor());
            b.grouped_raw(avp.code(), vendor, avp.flags(), |g| {
                reencode(g, avp.group_set())
            });
        } else {
            b.put_avp(&avp);
        }
    }
}

// ---------------------------------------------------------------------------
// Hostile-input checks shared by the no-panic properties.

const ME: Identity<'static> = Identity {
    origin_host: "prop.example",
    origin_realm: "example",
};

fn check_err(input: &[u8], e: &Error) -> Result<(), TestCaseError> {
    if let Some(off) = e.offset() {
        prop_assert!(
            off < input.len(),
            "offset {off} outside {} bytes: {e}",
            input.len()
        );
        if let Some(a) = e.avp() {
            prop_assert!(
                off + a.len as usize <= input.len(),
                "len runs past input: {e:?}"
            );
        }
    }
    let _ = format!("{e}");
    if input.len() >= HEADER_LEN {
        let mut buf = vec![0u8; input.len() + 512];
        let b = error_answer(input, e, &ME, &base::Base, &mut buf)
            .map_err(|x| TestCaseError::fail(format!("error_answer: {x:?}")))?;
        let ans = b
            .finish()
            .map_err(|x| TestCaseError::fail(format!("finish: {x:?}")))?;
        let m = Message::parse(ans).map_err(|x| TestCaseError::fail(format!("answer: {x}")))?;
        prop_assert_eq!(m.flags().is_error(), e.is_protocol_error());
        prop_assert!(!m.is_request());
    }
    Ok(())
}

/// Every entry point on `input`; nothing may panic, errors must be in range.
fn hammer(input: &[u8]) -> Result<(), TestCaseError> {
    match Message::parse(input) {
        Ok(m) => {
            for avp in m.iter() {
                if let Err(e) = avp {
                    check_err(input, &e)?;
                }
            }
            for d in [&base::Base as &dyn DynDict, &TestDict] {
                if let Err(e) = d.validate(&m) {
                    check_err(input, &e)?;
                }
            }
        }
        Err(e) => check_err(input, &e)?,
    }
    match Message::parse_with(input, &base::Base) {
        Ok(m) => {
            if let Err(e) = m.validate(&base::Base) {
                check_err(input, &e)?;
            }
        }
        Err(e) => check_err(input, &e)?,
    }
    match Message::parse_with(input, &TestDict) {
        Ok(m) => {
            if let Err(e) = m.validate(&TestDict) {
                check_err(input, &e)?;
            }
        }
        Err(e) => check_err(input, &e)?,
    }
    for max in [0, 20, 64, 65_536, usize::MAX] {
        match Framer::new(max).check(input) {
            Ok(diameter_core::Frame::Complete(n)) => prop_assert!(n <= input.len() && n <= max),
            Ok(diameter_core::Frame::Partial { needed }) => prop_assert!(needed > input.len()),
            Err(e) => prop_assert_eq!(e.offset(), None),
        }
        let mut consumed = 0;
        let mut it = Framer::new(max).messages(input);
        for m in it.by_ref() {
            match m {
                Ok(m) => consumed += m.len(),
                Err(e) => prop_assert_eq!(e.offset(), None),
            }
        }
        prop_assert_eq!(it.consumed(), consumed);
        prop_assert!(consumed <= input.len());
    }
    Ok(())
}

/// Object-safe wrapper so that both dictionaries can be looped over.
trait DynDict {
    fn validate(&self, m: &Message<'_>) -> Result<(), Error>;
}
impl<D: Dictionary> DynDict for D {
    fn validate(&self, m: &Message<'_>) -> Result<(), Error> {
        m.validate(self)
    }
}

/// Make random bytes look like a header so that AVP parsing is reached.
fn plausible(mut v: Vec<u8>, flags: u8) -> Vec<u8> {
    if v.len() >= HEADER_LEN {
        v.truncate(v.len() & !3);
        let n = v.len() as u32;
        v[0] = 1;
        v[1..4].copy_from_slice(&n.to_be_bytes()[1..]);
        v[4] = flags & 0xf0 & !if flags & 0x80 != 0 { 0x20 } else { 0 };
    }
    v
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Encode a random tree, parse it back, compare, re-encode identically.
    #[test]
    fn tree_round_trip(m in msg_strategy()) {
        let bytes = encode(&m);
        prop_assert_eq!(bytes.len(), HEADER_LEN + model_len(&m.avps));
        let msg = Message::parse_with(&bytes, &TestDict)
            .map_err(|e| TestCaseError::fail(format!("parse_with: {e}")))?;
        prop_assert_eq!(msg.header(), m.header);
        prop_assert_eq!(msg.as_bytes().len(), bytes.len());
        // Without a dictionary the top level still parses.
        let plain = Message::parse(&bytes)
            .map_err(|e| TestCaseError::fail(format!("parse: {e}")))?;
        prop_assert_eq!(plain.avps().count(), m.avps.len());
        compare(msg.avps(), &m.avps, bytes.len())?;
        // Every value is valid for its type, the command is unknown: accepted
        // (an answer with the E bit must follow the §7.2 answer-message
        // grammar, which random trees do not).
        if !msg.flags().is_error() {
            msg.validate(&TestDict)
                .map_err(|e| TestCaseError::fail(format!("validate: {e}")))?;
        }
        // Framing finds exactly this message, also when followed by another.
        prop_assert_eq!(
            Framer::new(usize::MAX).check(&bytes),
            Ok(diameter_core::Frame::Complete(bytes.len()))
        );
        // Re-encode from the parsed tree.
        let mut out = vec![0u8; bytes.len()];
        let mut b = MessageBuilder::new(&mut out, msg.header());
        reencode(&mut b, msg.avps());
        let again = b.finish().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(again, &bytes[..]);
    }

    /// Any buffer size: either the exact bytes or BufferTooSmall with the full size.
    #[test]
    fn any_buffer_size(m in msg_strategy(), size_frac in 0.0f64..1.2, fill in any::<u8>()) {
        let want = encode(&m);
        let size = ((want.len() as f64) * size_frac) as usize;
        for size in [size, want.len().saturating_sub(1), want.len(), 0, 19, 20] {
            let mut buf = vec![fill; size];
            match encode_into(&m, &mut buf) {
                Ok(bytes) => {
                    prop_assert!(size >= want.len());
                    prop_assert_eq!(bytes, &want[..]);
                }
                Err(e) => {
                    prop_assert!(size < want.len(), "size {} failed: {:?}", size, e);
                    prop_assert_eq!(e, EncodeError::BufferTooSmall { needed: want.len() });
                }
            }
        }
    }

    /// Arbitrary bytes never panic any entry point; offsets stay in the input.
    #[test]
    fn random_bytes_never_panic(v in proptest::collection::vec(any::<u8>(), 0..600)) {
        hammer(&v)?;
    }

    /// Random bodies behind a plausible header reach the AVP parser.
    #[test]
    fn random_bodies_never_panic(
        v in proptest::collection::vec(any::<u8>(), 20..600),
        flags in any::<u8>(),
    ) {
        hammer(&plausible(v, flags))?;
    }

    /// Valid messages with a few bytes overwritten never panic either.
    #[test]
    fn mutated_messages_never_panic(
        m in msg_strategy(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = encode(&m);
        for (i, b) in edits {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        hammer(&bytes)?;
        // Also a truncation with a header that claims the truncated length.
        let n = cut.index(bytes.len() + 1);
        let t = plausible(bytes[..n].to_vec(), bytes[4]);
        hammer(&t)?;
    }
}

/// A Command-Code that does not fit the 24-bit field must not be encoded as
/// a different command.
#[test]
fn command_code_above_24_bits_is_not_truncated() {
    for code in [1u32 << 24, 0x0100_0118, u32::MAX] {
        let mut buf = [0u8; 64];
        let hdr = HeaderRepr::request(CommandCode(code), ApplicationId::COMMON, 1, 2);
        match MessageBuilder::new(&mut buf, hdr).finish() {
            Err(_) => {}
            Ok(bytes) => {
                let got = Message::parse(bytes).unwrap().command_code();
                assert_eq!(got, CommandCode(code), "0x{code:x} encoded as {got:?}");
            }
        }
    }
}
