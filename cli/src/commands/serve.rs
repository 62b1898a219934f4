//! `diameter serve`: the built-in charging server (see [`crate::server`]),
//! on plain TCP or, with `--tls-cert` and `--tls-key`, TLS (see
//! [`crate::tls`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use tokio::sync::broadcast::error::RecvError;

use super::{runtime, say, Failure, Status};
use crate::server::{self, ServerOptions};

/// Arguments of `diameter serve`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  diameter serve
  diameter serve --listen 0.0.0.0:3868 --db sqlite:/var/lib/diameter/charging.db
  diameter serve --listen 127.0.0.1:3869 --db postgres://charging@localhost/charging --instance b
  diameter serve --listen 0.0.0.0:3868 --tls-cert server-chain.pem --tls-key server-key.pem
  diameter serve --tls-cert server-chain.pem --tls-key server-key.pem --tls-client-ca clients-ca.pem

The database is created with a demo tariff (0.10 to connect, 0.01 per
started 6 s) and subscribers 1001 (10.00), 1002 (5.00) and 1003 (0.15)
when missing. Every accounting record and charge record is committed
before its answer is sent. With --tls-cert every connection starts with
the TLS handshake (RFC 6733 §2.1; plain TCP clients get nothing); try it
with `diameter call --peer HOST:PORT --tls-ca ca.pem --tls-name NAME`.
Stop with Ctrl-C (DPR to every peer).")]
pub struct ServeArgs {
    /// Where to listen (port 0: any free port; the first line printed says
    /// which).
    #[arg(long, default_value = "127.0.0.1:3868", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The charging database: a file path, sqlite:PATH or
    /// postgres://USER@HOST/DB (cargo feature `postgres`).
    #[arg(
        long,
        default_value = "sqlite:diameter-charging.db",
        value_name = "URL"
    )]
    pub db: String,
    /// Origin-Host.
    #[arg(long, default_value = "server.diameter.test")]
    pub origin_host: String,
    /// Origin-Realm.
    #[arg(long, default_value = "diameter.test")]
    pub realm: String,
    /// This instance's name in the database: keep it stable across
    /// restarts and distinct between instances sharing a database.
    #[arg(long, default_value = "serve")]
    pub instance: String,
    /// Acct-Interim-Interval told to accounting clients (0: none).
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub interim: u32,
    /// Accept only peers whose Origin-Host matches (repeat for more;
    /// others get CEA 3010 DIAMETER_UNKNOWN_PEER).
    #[arg(long, value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// Run the server's clock N times faster (to match `call --peer ..
    /// --speed N` against it).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub speed: u32,
    /// `debug`: print every message in and out in full (to stderr).
    #[arg(long, default_value = "info", value_name = "LEVEL")]
    pub log: String,
    /// Listen with TLS: our certificate chain (PEM, our own certificate
    /// first, then any intermediates).
    #[arg(long, value_name = "FILE.pem", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE.pem", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require a client certificate signed by one of the CAs in this PEM
    /// file (TLS handshakes without one fail).
    #[arg(long, value_name = "FILE.pem", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

/// Run `diameter serve` until Ctrl-C or SIGTERM.
pub fn run(args: &ServeArgs) -> Result<Status, Failure> {
    runtime()?.block_on(serve(args))
}

async fn serve(args: &ServeArgs) -> Result<Status, Failure> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(crate::tls::server_config(
            c,
            k,
            args.tls_client_ca.as_deref(),
        )?),
        _ => None,
    };
    let opts = ServerOptions {
        origin_host: args.origin_host.clone(),
        realm: args.realm.clone(),
        instance: args.instance.clone(),
        speed: args.speed,
        interim: args.interim,
        allow_hosts: args.allow_host.clone(),
        dump: args.log.eq_ignore_ascii_case("debug"),
        tls,
        ..ServerOptions::new(args.listen, &args.db)
    };
    let srv = server::start(&opts).await?;
    let mut events = srv.node.events();
    let addrs: Vec<String> = srv
        .node
        .local_addrs()
        .iter()
        .map(|a| a.to_string())
        .collect();
    let tls = match (&args.tls_cert, &args.tls_client_ca) {
        (None, _) => "",
        (Some(_), None) => " with TLS",
        (Some(_), Some(_)) => " with TLS (client certificates required)",
    };
    say(&format!(
        "listening on {}{tls} as {} ({}), database {}",
        addrs.join(", "),
        args.origin_host,
        args.realm,
        srv.db.url()
    ));
    let stop = stop_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            e = events.recv() => match e {
                Ok(e) => {
                    if let Some(line) = server::describe(&e) {
                        say(&line);
                    }
                }
                Err(RecvError::Lagged(n)) => say(&format!("({n} events not shown)")),
                Err(RecvError::Closed) => break,
            },
        }
    }
    say("stopping: DPR to every peer");
    srv.node.shutdown(server::SHUTDOWN_GRACE).await;
    Ok(Status::Ok)
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
