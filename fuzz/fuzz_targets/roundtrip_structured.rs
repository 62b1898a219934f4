//! An arbitrary message tree → encode into buffers of random sizes → either a
//! clean "too small" error carrying the full size, or bytes that parse back
//! to the same tree.
#![no_main]

use arbitrary::Arbitrary;
use diameter_core::dict::{AvpInfo, Dictionary, FlagRules, Grammar};
use diameter_core::types::DataType;
use diameter_core::{
    ApplicationId, AvpFlags, AvpSet, CommandCode, CommandDef, CommandFlags, EncodeError,
    HeaderRepr, Message, MessageBuilder,
};
use libfuzzer_sys::fuzz_target;

/// Codes 1000..=1099 are grouped for this target.
struct Dict;
static GROUPED: AvpInfo = AvpInfo {
    code: 1000,
    vendor: 0,
    name: "grouped",
    data_type: DataType::Grouped,
    flags: FlagRules::M_MAY,
    grammar: Grammar::EMPTY,
    values: &[],
};
impl Dictionary for Dict {
    fn avp(&self, code: u32, _vendor: u32) -> Option<&'static AvpInfo> {
        (1000..1100).contains(&code).then_some(&GROUPED)
    }
    fn command(&self, _: CommandCode, _: bool) -> Option<&'static CommandDef> {
        None
    }
}

#[derive(Debug, Arbitrary)]
enum Node {
    Leaf {
        code: u16,
        vendor: Option<u32>,
        m: bool,
        data: Vec<u8>,
    },
    Group {
        code: u8,
        vendor: Option<u32>,
        m: bool,
        children: Vec<Node>,
    },
}

#[derive(Debug, Arbitrary)]
struct Input {
    request: bool,
    proxiable: bool,
    code: u32,
    app: u32,
    hbh: u32,
    e2e: u32,
    avps: Vec<Node>,
    sizes: Vec<u16>,
}

fn leaf_code(code: u16) -> u32 {
    // keep leaves out of the grouped range
    if (1000..1100).contains(&code) {
        u32::from(code) + 200
    } else {
        u32::from(code)
    }
}

fn put(b: &mut MessageBuilder<'_>, n: &Node, depth: usize) {
    match n {
        Node::Leaf {
            code,
            vendor,
            m,
            data,
        } => {
            let f = if *m {
                AvpFlags::MANDATORY
            } else {
                AvpFlags::NONE
            };
            b.put_raw(leaf_code(*code), *vendor, f, data);
        }
        Node::Group {
            code,
            vendor,
            m,
            children,
        } => {
            let f = if *m {
                AvpFlags::MANDATORY
            } else {
                AvpFlags::NONE
            };
            b.grouped_raw(1000 + u32::from(*code % 100), *vendor, f, |g| {
                if depth < 12 {
                    for c in children {
                        put(g, c, depth + 1);
                    }
                }
            });
        }
    }
}

fn same(set: AvpSet<'_>, nodes: &[Node], depth: usize) -> bool {
    let mut it = set.iter();
    for n in nodes {
        let Some(Ok(a)) = it.next() else { return false };
        match n {
            Node::Leaf {
                code,
                vendor,
                m,
                data,
            } => {
                if a.code() != leaf_code(*code)
                    || a.flags().is_vendor() != vendor.is_some()
                    || a.vendor() != vendor.unwrap_or(0)
                    || a.flags().is_mandatory() != *m
                    || a.data() != &data[..]
                {
                    return false;
                }
            }
            Node::Group {
                code,
                vendor,
                m,
                children,
            } => {
                if a.code() != 1000 + u32::from(*code % 100)
                    || a.vendor() != vendor.unwrap_or(0)
                    || a.flags().is_mandatory() != *m
                {
                    return false;
                }
                let kids: &[Node] = if depth < 12 { children } else { &[] };
                if !same(a.group_set(), kids, depth + 1) {
                    return false;
                }
            }
        }
    }
    it.next().is_none()
}

fuzz_target!(|inp: Input| {
    let mut flags = CommandFlags(0);
    if inp.request {
        flags = flags | CommandFlags::REQUEST;
    }
    if inp.proxiable {
        flags = flags | CommandFlags::PROXIABLE;
    }
    let hdr = HeaderRepr {
        flags,
        command_code: CommandCode(inp.code & 0xff_ffff),
        application_id: ApplicationId(inp.app),
        hop_by_hop: inp.hbh,
        end_to_end: inp.e2e,
    };
    let mut big = vec![0u8; 1 << 20];
    let mut b = MessageBuilder::new(&mut big, hdr);
    for n in &inp.avps {
        put(&mut b, n, 0);
    }
    let full = match b.finish() {
        Ok(m) => m.to_vec(),
        Err(EncodeError::BufferTooSmall { .. }) | Err(EncodeError::TooLong) => return,
        Err(e) => panic!("{e:?}"),
    };
    let msg = Message::parse_with(&full, &Dict).expect("our encoding parses");
    assert_eq!(msg.header(), hdr);
    assert!(same(msg.avps(), &inp.avps, 0), "tree differs");
    for &s in inp.sizes.iter().take(8) {
        let size = usize::from(s) % (full.len() + 8);
        let mut buf = vec![0xa5u8; size];
        let mut b = MessageBuilder::new(&mut buf, hdr);
        for n in &inp.avps {
            put(&mut b, n, 0);
        }
        match b.finish() {
            Ok(m) => assert_eq!(m, &full[..]),
            Err(EncodeError::BufferTooSmall { needed }) => {
                assert!(size < full.len());
                assert_eq!(needed, full.len());
            }
            Err(e) => panic!("{e:?}"),
        }
    }
});
