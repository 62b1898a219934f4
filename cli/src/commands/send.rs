//! `diameter send`: one request from its JSON form (as `diameter decode
//! --json` prints it), its answer printed as a tree (or JSON).
//!
//! The node writes the Hop-by-Hop and End-to-End identifiers and matches
//! the answer; everything else is sent as written.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use diameter_cc::endpoint::EndpointConfig;
use diameter_cc::session::WallClock;
use diameter_cc::CreditControl;
use diameter_core::peer::PeerConfig;
use diameter_tokio::{Direction, Limits, Node, RequestError};

use super::call::connect_failure;
use super::{runtime, say, Failure, Status};
use crate::input::read_input;
use crate::json::{json_to_message, message_to_json, read_documents};
use crate::ladder::Entry;
use crate::server::{self, identity, unix_now, ServerOptions};
use crate::tls::{self, ClientTlsArgs};

/// Arguments of `diameter send`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  diameter decode --json ../shared/bench-msgs/ccr-i.hex > ccr.json
  diameter send ccr.json                        # to the built-in server
  diameter send --peer 127.0.0.1:3868 ccr.json
  diameter send --peer 127.0.0.1:3868 --json ccr.json | diameter encode
  diameter send --peer ocs.example.net:3868 --tls-ca ca.pem ccr.json   # over TLS

Exit status: 0 a 2xxx answer, 1 another answer (printed), 2 no answer.")]
pub struct SendArgs {
    /// The request in JSON (one object); `-` reads stdin.
    pub file: String,
    /// Where to send it; without it, to the built-in server started in
    /// this process (a fresh demo database).
    #[arg(long, value_name = "HOST:PORT")]
    pub peer: Option<String>,
    /// Our Origin-Host in the capabilities exchange.
    #[arg(long, default_value = "client.diameter.test")]
    pub origin_host: String,
    /// Our Origin-Realm.
    #[arg(long, default_value = "diameter.test")]
    pub realm: String,
    /// Print the answer as JSON (the form `diameter encode` reads).
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for the connection and for the answer.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub timeout: u64,
    /// TLS (as `diameter call`).
    #[command(flatten)]
    pub tls: ClientTlsArgs,
}

/// Run `diameter send`.
pub fn run(args: &SendArgs) -> Result<Status, Failure> {
    runtime()?.block_on(send(args))
}

async fn send(args: &SendArgs) -> Result<Status, Failure> {
    let input = read_input(&args.file)?;
    let text = std::str::from_utf8(&input)
        .map_err(|_| Failure(format!("{}: not UTF-8 text", args.file)))?;
    let docs = read_documents(text).map_err(|e| Failure(format!("{}: {e}", args.file)))?;
    let [doc] = docs.as_slice() else {
        return Err(Failure(format!(
            "{}: {} messages; send takes one",
            args.file,
            docs.len()
        )));
    };
    let request =
        json_to_message(doc, &CreditControl).map_err(|e| Failure(format!("{}: {e}", args.file)))?;
    let timeout = Duration::from_secs(args.timeout.max(1));

    let mut _tmp = None;
    let (addr, builtin, tls) = match &args.peer {
        Some(p) => {
            let config = args.tls.peer_config()?;
            let tls = args.tls.for_peer(config.as_ref(), p);
            (super::call::resolve(p)?, None, tls)
        }
        None => {
            let dir = tempfile::tempdir()
                .map_err(|e| Failure(format!("cannot make a temporary directory: {e}")))?;
            let url = format!("sqlite:{}", dir.path().join("charging.db").display());
            _tmp = Some(dir);
            let mut opts = ServerOptions {
                // Unique per process: a server starting releases the reservations
                // its instance name holds, so two runs on one database must not share it.
                instance: format!("send-{}", std::process::id()),
                large: false,
                ..ServerOptions::new(SocketAddr::from(([127, 0, 0, 1], 0)), &url)
            };
            let mut client_tls = None;
            if args.tls.enabled() {
                let (server, client) = tls::throwaway(&opts.origin_host)?;
                opts.tls = Some(server);
                client_tls = Some(client);
            }
            let srv = server::start(&opts).await?;
            (srv.node.local_addrs()[0], Some(srv), client_tls)
        }
    };

    let mut peer = PeerConfig::new(identity(&args.origin_host, &args.realm)?, unix_now() as u32);
    peer.capabilities_timeout = timeout;
    let start = std::time::Instant::now();
    let json = args.json;
    let builder = Node::builder(EndpointConfig::new(peer, WallClock::new(0)));
    let node = tls::client_builder(builder, tls.as_ref())
        .connect_to(tls::target(addr, tls.as_ref()))
        .limits(Limits {
            connect_timeout: timeout,
            request_timeout: timeout,
            ..Limits::default()
        })
        .tap(move |dir, _, bytes| {
            if !json {
                let e = Entry::new(start.elapsed().as_secs_f64(), dir == Direction::Out, bytes);
                say(&e.text());
            }
        })
        .start_sized::<4, 16>()
        .await
        .map_err(|e| Failure(e.to_string()))?;
    if let Err(e) = node.wait_open(timeout + Duration::from_secs(1)).await {
        node.shutdown(Duration::from_millis(100)).await;
        return Err(Failure(connect_failure(&e, tls.is_some())));
    }
    let result = node.request(request).await;
    node.shutdown(Duration::from_secs(2)).await;
    if let Some(s) = builtin {
        s.node.shutdown(Duration::from_secs(1)).await;
    }
    let (answer, status) = match result {
        Ok(a) => (a, Status::Ok),
        Err(RequestError::Rejected(a)) => (a, Status::Invalid),
        Err(e) => return Err(Failure(format!("no answer: {e}"))),
    };
    if json {
        let j = message_to_json(answer.bytes(), &CreditControl)
            .map_err(|e| Failure(format!("the answer does not decode: {e}")))?;
        say(&j.to_string());
    } else {
        let (tree, _) = crate::tree::render(answer.bytes(), &CreditControl, Default::default());
        say(tree.trim_end());
    }
    Ok(status)
}
