//! `cargo xtask size`: what a first visit downloads, gzip -9, against the product's budget, what
//! is fetched later only when needed (the split-off chunks, see `lazy_chunks`), and where the
//! wasm's bytes go.
//!
//! The breakdown needs symbol names, which the shipped build strips. When twiggy is installed we
//! build the same wasm with names kept (the `wasm-names` profile: release plus names, in its own
//! target directory, so the first run costs one more build and later runs only relink), split it
//! and run wasm-bindgen and wasm-opt on its main module as the shipped build does, names kept,
//! and ask twiggy which items of the first load are largest (the parts fetched on demand are
//! left out). Those sizes are of the uncompressed wasm; gzip shrinks every
//! item by roughly the same factor, so the ranking holds.

use crate::app_build::{build_dist, cargo};
use crate::command::{probe, run};
use crate::lazy_chunks::{is_on_demand, split, WASM_OPT_ARGS};
use crate::tools::{ensure_build_tools, BuildTools};
use crate::workspace_root;
use anyhow::{bail, Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// The whole product's first load (every feature planned, not only today's) must stay under
/// this: a first visit on a slow phone link stays around a second or two.
const BUDGET_GZ_BYTES: u64 = 250 * 1024;

/// How many of the largest items and groups the report lists.
const TOP_ITEMS: usize = 25;
const TOP_GROUPS: usize = 20;

pub fn report() -> Result<()> {
    let tools = ensure_build_tools()?;
    let dist = build_dist(&tools)?;
    let load = FirstLoad::of(&dist)?;
    let (rows, later, total) = (&load.files, &load.on_demand, load.total_gz());

    println!(
        "\n{:<44} {:>10} {:>10}",
        "first load (dist/)", "bytes", "gzip -9"
    );
    for (name, raw, gz) in rows {
        println!("{name:<44} {raw:>10} {gz:>10}");
    }
    println!(
        "{:<44} {:>10} {:>10}  (budget {BUDGET_GZ_BYTES})",
        "total", "", total
    );
    println!(
        "\n{:<44} {:>10} {:>10}",
        "fetched when needed", "bytes", "gzip -9"
    );
    for (name, raw, gz) in later {
        println!("{name:<44} {raw:>10} {gz:>10}");
    }

    let contributors = match wasm_contributors(&tools) {
        Ok(Some(contributors)) => {
            contributors.print();
            contributors.to_json()
        }
        Ok(None) => {
            println!(
                "\n(install twiggy, e.g. `cargo install twiggy`, for the largest items of the wasm)"
            );
            serde_json::Value::Null
        }
        Err(error) => {
            println!("\n(no breakdown of the wasm: {error:#})");
            serde_json::Value::Null
        }
    };

    let json = serde_json::json!({
        "total_gz_bytes": total,
        "budget_gz_bytes": BUDGET_GZ_BYTES,
        "files": file_rows(rows),
        "on_demand_files": file_rows(later),
        "wasm_contributors": contributors,
    });
    let out = workspace_root().join("target/bench/size.json");
    std::fs::create_dir_all(out.parent().expect("has parent"))?;
    std::fs::write(&out, serde_json::to_string_pretty(&json)? + "\n")?;
    println!("wrote {}", out.display());
    load.within_budget()
}

/// Fails when the first load of the app built into `dist` is over budget: part of `cargo
/// xtask test`, on the `dist/` its browser suites serve (gzipping it takes about a second).
pub fn check_budget(dist: &Path) -> Result<()> {
    let load = FirstLoad::of(dist)?;
    println!(
        "xtask: first load {} bytes gzipped (budget {BUDGET_GZ_BYTES})",
        load.total_gz()
    );
    load.within_budget()
}

/// The files of a built `dist/` (name, bytes, gzip -9 bytes): what a first visit downloads,
/// and what is fetched later, only when needed.
struct FirstLoad {
    files: Vec<(String, u64, u64)>,
    on_demand: Vec<(String, u64, u64)>,
}

impl FirstLoad {
    fn of(dist: &Path) -> Result<Self> {
        let mut names = Vec::new();
        collect_files(dist, dist, &mut names)?;
        names.sort();
        let mut load = FirstLoad {
            files: Vec::new(),
            on_demand: Vec::new(),
        };
        for name in names {
            let bytes =
                std::fs::read(dist.join(&name)).with_context(|| format!("reading dist/{name}"))?;
            let row = (name.clone(), bytes.len() as u64, gzip_size(&bytes)?);
            if is_on_demand(&name) {
                load.on_demand.push(row);
            } else {
                load.files.push(row);
            }
        }
        Ok(load)
    }

    fn total_gz(&self) -> u64 {
        self.files.iter().map(|(_, _, gz)| gz).sum()
    }

    fn within_budget(&self) -> Result<()> {
        let total = self.total_gz();
        if total > BUDGET_GZ_BYTES {
            bail!(
                "first load is {total} bytes gzipped, over the {BUDGET_GZ_BYTES}-byte budget \
                 (`cargo xtask size` says where the bytes go)"
            );
        }
        Ok(())
    }
}

fn file_rows(rows: &[(String, u64, u64)]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|(name, raw, gz)| serde_json::json!({"name": name, "bytes": raw, "gz_bytes": gz}))
        .collect()
}

/// Every file a browser may fetch: all of dist/ except Trunk's staging area.
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

/// The largest items of the shipped wasm, and the same bytes summed by crate.
struct Contributors {
    /// Code and data bytes (no custom sections) of the names-kept wasm.
    total_bytes: u64,
    top_items: Vec<(String, u64)>,
    by_crate: Vec<(String, u64)>,
}

impl Contributors {
    fn print(&self) {
        println!(
            "\nlargest items of the wasm (twiggy; uncompressed bytes of {} in code and data):",
            self.total_bytes
        );
        for (name, bytes) in &self.top_items {
            println!("{bytes:>8}  {}", shorten(name, 110));
        }
        println!("\nby crate (the first crate a symbol names; our own by module):");
        for (group, bytes) in &self.by_crate {
            let percent = *bytes as f64 * 100.0 / self.total_bytes.max(1) as f64;
            println!("{bytes:>8}  {percent:>4.1}%  {group}");
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let pairs = |list: &[(String, u64)]| {
            list.iter()
                .map(|(name, bytes)| serde_json::json!({"name": name, "bytes": bytes}))
                .collect::<Vec<_>>()
        };
        serde_json::json!({
            "note": "uncompressed bytes in the names-kept twin of the shipped wasm (same wasm-bindgen and wasm-opt settings)",
            "code_and_data_bytes": self.total_bytes,
            "top_items": pairs(&self.top_items),
            "by_crate": pairs(&self.by_crate),
        })
    }
}

/// `None` when twiggy is not installed.
fn wasm_contributors(tools: &BuildTools) -> Result<Option<Contributors>> {
    if probe(tools.command("twiggy").arg("--version")).is_none() {
        return Ok(None);
    }
    let root = workspace_root();
    println!("xtask: building the wasm with symbol names kept, for the breakdown");
    run(
        std::process::Command::new(cargo())
            .args([
                "build",
                "--profile",
                "wasm-names",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .args([
                "-p",
                "insieme",
                "--bin",
                "insieme",
                "--features",
                "lazy-chunks",
            ])
            .current_dir(&root),
        "the names-kept wasm build",
    )?;
    let built = root.join("target/wasm32-unknown-unknown/wasm-names/insieme.wasm");
    let work = root.join("target/size-analysis");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("clearing {}", work.display()))?;
    }
    let split_dir = work.join("split");
    std::fs::create_dir_all(&split_dir)?;
    // Split as the shipped build is, so that what is listed is the first load's main module
    // only, not the parts fetched on demand.
    let split_main = split(&built, &split_dir, "./insieme_names.js")?;
    let input = work.join("insieme_names.wasm");
    std::fs::rename(&split_main, &input)?;
    run(
        tools
            .command("wasm-bindgen")
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--keep-debug",
                "--keep-lld-exports",
                "--out-dir",
            ])
            .arg(&work)
            .arg(&input),
        "wasm-bindgen (names kept, for the breakdown)",
    )?;
    let bound = work.join("insieme_names_bg.wasm");
    let named = work.join("insieme_named.wasm");
    run(
        tools
            .command("wasm-opt")
            .args(WASM_OPT_ARGS)
            // Names kept (-g) but not DWARF, which a release build has none of anyway.
            .args(["-g", "--strip-dwarf", "--strip-producers", "-o"])
            .arg(&named)
            .arg(&bound),
        "wasm-opt (names kept, for the breakdown)",
    )?;
    let csv = probe(
        tools
            .command("twiggy")
            .args(["top", "-n", "1000000", "-f", "csv"])
            .arg(&named),
    )
    .context("twiggy top failed")?;
    Ok(Some(summarize(&csv, &crate_names(&root)?)))
}

/// Crate names (as they appear in symbols) of every package in Cargo.lock, and the sysroot's.
fn crate_names(root: &Path) -> Result<Vec<String>> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut names: Vec<String> = lock
        .lines()
        .filter_map(|line| line.strip_prefix("name = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .map(|name| name.replace('-', "_"))
        .collect();
    names.extend(["core", "alloc", "std", "dlmalloc", "__rustc"].map(String::from));
    Ok(names)
}

/// Groups twiggy's rows: our crate by module, others by crate, data segments together; custom
/// sections (names, wasm-bindgen leftovers) are not shipped and are left out.
fn summarize(csv: &str, crates: &[String]) -> Contributors {
    let mut items = Vec::new();
    for line in csv.lines().skip(1) {
        let Some((name, bytes)) = parse_csv_row(line) else {
            continue;
        };
        if name.starts_with("custom section") || name.contains("subsection") {
            continue;
        }
        items.push((name, bytes));
    }
    let total_bytes = items.iter().map(|(_, bytes)| bytes).sum();
    let mut groups: BTreeMap<String, u64> = BTreeMap::new();
    for (name, bytes) in &items {
        *groups.entry(group_of(name, crates)).or_default() += bytes;
    }
    let mut by_crate: Vec<(String, u64)> = groups.into_iter().collect();
    by_crate.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
    by_crate.truncate(TOP_GROUPS);
    items.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
    items.truncate(TOP_ITEMS);
    Contributors {
        total_bytes,
        top_items: items,
        by_crate,
    }
}

/// The item's name and shallow size from one row of `twiggy top -f csv`
/// (`Name,ShallowSize,ShallowSizePercent,RetainedSize,RetainedSizePercent`; names may be quoted).
fn parse_csv_row(line: &str) -> Option<(String, u64)> {
    let (name, rest) = if let Some(quoted) = line.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = quoted.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') if quoted[i + 1..].starts_with('"') => {
                    name.push('"');
                    chars.next();
                }
                (i, '"') => break i + 1,
                (_, c) => name.push(c),
            }
        };
        (name, quoted[end..].strip_prefix(',')?)
    } else {
        let (name, rest) = line.split_once(',')?;
        (name.to_owned(), rest)
    };
    let bytes = rest.split(',').next()?.parse().ok()?;
    Some((name, bytes))
}

fn group_of(name: &str, crates: &[String]) -> String {
    if name.starts_with("data segment") {
        return "(data: strings, tables, vtables)".into();
    }
    if name.starts_with("import ")
        || name.starts_with("export ")
        || name.starts_with("type[")
        || name.starts_with("elem[")
        || name.starts_with("table[")
    {
        return "(wasm structure: imports, exports, types, tables)".into();
    }
    // Every `ident::` in the symbol, in order: the first that is a crate names the group.
    let mut first_crate = None;
    let bytes = name.as_bytes();
    let mut start = None;
    for (i, &b) in bytes.iter().enumerate() {
        let ident = b.is_ascii_alphanumeric() || b == b'_';
        match (ident, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                // `core[1a2b]::` and `core::` both count.
                let word = &name[s..i];
                let after = &name[i..];
                let after = after
                    .strip_prefix('[')
                    .and_then(|a| a.find(']').map(|e| &a[e + 1..]))
                    .unwrap_or(after);
                if after.starts_with("::") && crates.iter().any(|c| c == word) {
                    first_crate = Some((s, word));
                    break;
                }
                start = None;
            }
            _ => {}
        }
    }
    match first_crate {
        Some((s, "insieme")) => {
            let modules: Vec<&str> = name[s..].split("::").take(3).collect();
            match modules.as_slice() {
                [_, top @ ("web" | "ui" | "sync" | "room" | "signaling"), sub, ..]
                    if sub.chars().all(|c| c.is_ascii_lowercase() || c == '_') =>
                {
                    format!("insieme::{top}::{sub}")
                }
                [_, top, ..] => format!("insieme::{top}"),
                _ => "insieme".into(),
            }
        }
        Some((_, krate)) => krate.to_owned(),
        None => "(other)".into(),
    }
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let head: String = text.chars().take(max_chars - 1).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_twiggy_csv_rows() {
        assert_eq!(
            parse_csv_row("core::fmt::write,515,0.03,,"),
            Some(("core::fmt::write".into(), 515))
        );
        assert_eq!(
            parse_csv_row(r#""export ""main""",527,0.02,,"#),
            Some((r#"export "main""#.into(), 527))
        );
        assert_eq!(
            parse_csv_row(r#""<a, b as c::D>::f",12,0.1,,"#),
            Some(("<a, b as c::D>::f".into(), 12))
        );
        assert_eq!(parse_csv_row("Name,ShallowSize"), None);
    }

    #[test]
    fn groups_symbols_by_crate_and_our_modules() {
        let crates: Vec<String> = ["insieme", "tachys", "core", "alloc", "serde_core"]
            .map(String::from)
            .to_vec();
        let group = |name| group_of(name, &crates);
        assert_eq!(
            group("<F as tachys::reactive_graph::ReactiveFunction>::invoke::h5f8e"),
            "tachys"
        );
        assert_eq!(
            group("core[c5930c85a12de822]::num::flt2dec::strategy::dragon::format_shortest"),
            "core"
        );
        assert_eq!(
            group("insieme::web::mesh::Mesh::decide::hfd35"),
            "insieme::web::mesh"
        );
        assert_eq!(
            group("insieme::sync::engine::Engine::handle_input::h00d3"),
            "insieme::sync::engine"
        );
        assert_eq!(group("insieme::main::h551c"), "insieme::main");
        assert_eq!(
            group("<T as alloc::string::ToString>::to_string::h4908"),
            "alloc"
        );
        assert_eq!(
            group("data segment \".rodata\""),
            "(data: strings, tables, vtables)"
        );
        assert_eq!(group("func[12]"), "(other)");
    }
}
