//! nginx in front of insieme-signal nodes, for the bench rows "insieme-signal (nginx)" and
//! "insieme-signal x2 (nginx)": the shipped deploy/nginx/insieme/upstream.conf and
//! locations.conf unchanged, with a generated nodes.conf and a plain-HTTP server block on
//! 127.0.0.1, started in the foreground from a scratch prefix under target/.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tokio::process::Command;

use crate::systems::{free_port, spawn, wait_for_port, Paths, Running};

/// nginx's binary, or an error naming the Debian package.
pub fn nginx_binary() -> Result<PathBuf> {
    for candidate in ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"] {
        if Path::new(candidate).exists() {
            return Ok(candidate.into());
        }
    }
    bail!("nginx is not installed (Debian package `nginx`)")
}

/// The parameters of the shipped nodes.conf's first `server` line (`max_fails=… fail_timeout=…`),
/// so the bench's nodes are taken out of the pool by the rule a deployment ships.
fn shipped_node_parameters(shipped: &Path) -> Result<String> {
    let path = shipped.join("nodes.conf");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("server "))
        .and_then(|rest| rest.trim_end_matches(';').split_once(char::is_whitespace))
        .map(|(_addr, parameters)| parameters.trim().to_owned())
        .with_context(|| {
            format!(
                "no `server <addr> <parameters>;` line in {}",
                path.display()
            )
        })
}

/// Starts nginx over `nodes` (already running); stopping the result stops them too.
pub async fn start_nginx(paths: &Paths, nodes: Vec<Running>) -> Result<Running> {
    let port = free_port()?;
    let prefix = paths
        .target
        .join(format!("bench-nginx-{}-{port}", std::process::id()));
    let conf = prefix.join("conf");
    std::fs::create_dir_all(conf.join("insieme"))?;
    std::fs::create_dir_all(prefix.join("logs"))?;
    std::fs::create_dir_all(prefix.join("dist"))?;
    let shipped = paths.workspace.join("deploy/nginx/insieme");
    for file in ["upstream.conf", "locations.conf"] {
        std::fs::copy(shipped.join(file), conf.join("insieme").join(file))
            .with_context(|| format!("copying {}", shipped.join(file).display()))?;
    }
    let rule = shipped_node_parameters(&shipped)?;
    let node_lines: String = nodes
        .iter()
        .map(|node| format!("server {} {rule};\n", node.addr))
        .collect();
    std::fs::write(conf.join("insieme/nodes.conf"), node_lines)?;
    let prefix_text = prefix.display();
    // Two workers, one per core here: nginx's usual `worker_processes auto`.
    std::fs::write(
        conf.join("nginx.conf"),
        format!(
            "worker_processes auto;\n\
             worker_rlimit_nofile 65536;\n\
             error_log {prefix_text}/logs/error.log error;\n\
             pid {prefix_text}/logs/nginx.pid;\n\
             events {{ worker_connections 32768; }}\n\
             http {{\n\
               access_log off;\n\
               include insieme/upstream.conf;\n\
               server {{\n\
                 listen 127.0.0.1:{port} backlog=4096;\n\
                 root {prefix_text}/dist;\n\
                 include insieme/locations.conf;\n\
               }}\n\
             }}\n"
        ),
    )?;
    let binary = nginx_binary()?;
    let nginx = |prefix: &Path| {
        let mut command = Command::new(&binary);
        command
            .arg("-p")
            .arg(prefix)
            .arg("-c")
            .arg(conf.join("nginx.conf"));
        command
    };
    let mut command = nginx(&prefix);
    // Its output is not ours to read, and an inherited stdout would be held open by workers.
    command
        .args(["-g", "daemon off;"])
        .stdout(std::process::Stdio::null());
    let mut child = spawn(&mut command)?;
    // `-s stop` signals the master, which stops its workers before it exits.
    let mut stop_with = nginx(&prefix);
    stop_with.args(["-s", "stop"]);
    wait_for_port(&mut child, port)
        .await
        .with_context(|| format!("nginx; see {}/logs/error.log", prefix.display()))?;
    Ok(Running {
        child,
        addr: format!("127.0.0.1:{port}"),
        behind: nodes,
        scratch: Some(prefix),
        group: None,
        stop_with: Some(stop_with),
    })
}
