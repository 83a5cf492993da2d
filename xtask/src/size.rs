//! `cargo xtask size`: what a first visit downloads, gzip -9, against the product's budget.

use crate::app_build::build_dist;
use crate::tools::ensure_build_tools;
use crate::workspace_root;
use anyhow::{bail, Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::Path;

/// The whole product's first load must stay under this (see DEVELOPERS.md).
const BUDGET_GZ_BYTES: u64 = 250 * 1024;

pub fn report() -> Result<()> {
    let tools = ensure_build_tools()?;
    let dist = build_dist(&tools)?;
    let mut files = Vec::new();
    collect_files(&dist, &dist, &mut files)?;
    files.sort();
    let mut rows = Vec::new();
    for name in &files {
        let bytes =
            std::fs::read(dist.join(name)).with_context(|| format!("reading dist/{name}"))?;
        rows.push((name.clone(), bytes.len() as u64, gzip_size(&bytes)?));
    }
    let total: u64 = rows.iter().map(|(_, _, gz)| gz).sum();

    println!("\n{:<44} {:>10} {:>10}", "file (dist/)", "bytes", "gzip -9");
    for (name, raw, gz) in &rows {
        println!("{name:<44} {raw:>10} {gz:>10}");
    }
    println!(
        "{:<44} {:>10} {:>10}  (budget {BUDGET_GZ_BYTES})",
        "total", "", total
    );

    let json = serde_json::json!({
        "total_gz_bytes": total,
        "budget_gz_bytes": BUDGET_GZ_BYTES,
        "files": rows.iter().map(|(name, raw, gz)| serde_json::json!({"name": name, "bytes": raw, "gz_bytes": gz})).collect::<Vec<_>>(),
    });
    let out = workspace_root().join("target/bench/size.json");
    std::fs::create_dir_all(out.parent().expect("has parent"))?;
    std::fs::write(&out, serde_json::to_string_pretty(&json)? + "\n")?;
    println!("wrote {}", out.display());
    if total > BUDGET_GZ_BYTES {
        bail!("first load is {total} bytes gzipped, over the {BUDGET_GZ_BYTES}-byte budget");
    }
    Ok(())
}

/// Every file a browser may fetch on first visit: all of dist/ except Trunk's staging area.
fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else {
            out.push(path.strip_prefix(root)?.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

fn gzip_size(bytes: &[u8]) -> Result<u64> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len() as u64)
}
