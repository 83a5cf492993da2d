//! Finding, and installing when missing, every tool the build and the tests use.
//!
//! Cargo-installed tools go to `target/tools/bin` (cached with the build, never global) unless
//! the right version is already on PATH. System packages come from apt when running as root on
//! Debian; otherwise we stop with a line naming the packages to install.

use crate::command::{probe, run};
use crate::workspace_root;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Trunk 0.22 needs a newer rustc than this project's toolchain.
const TRUNK_VERSION: &str = "0.21.14";
/// Runs the fuzz targets (`cargo xtask test fuzz`); it prints `cargo-fuzz 0.13.2`.
const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// Debian bookworm's binaryen; Trunk.toml pins Trunk to it so Trunk never downloads one.
const WASM_OPT_VERSION: &str = "108";
/// Drives Firefox (Debian's `firefox-esr`) in the end-to-end tests; 0.37 builds on our rustc
/// and speaks to Firefox 128 and later. It prints `geckodriver 0.37.1 (...)`.
const GECKODRIVER_VERSION: &str = "0.37.1";
/// Minifies the JavaScript wasm-bindgen and the splitter write (1.7 KB less of the first load,
/// gzipped, than stripping comments and indents); from the npm registry, into target/tools/npm.
const ESBUILD_VERSION: &str = "0.24.2";

/// Where the build tools are, and the PATH under which children find them.
pub struct BuildTools {
    pub path_env: std::ffi::OsString,
}

impl BuildTools {
    /// A command whose PATH finds our tools first.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env("PATH", &self.path_env);
        command
    }
}

fn local_tools_bin() -> PathBuf {
    workspace_root().join("target/tools/bin")
}

/// Where npm puts the commands of the packages it installs into target/tools/npm.
fn local_npm_bin() -> PathBuf {
    workspace_root().join("target/tools/npm/node_modules/.bin")
}

fn path_with_local_tools() -> std::ffi::OsString {
    let mut paths = vec![local_tools_bin(), local_npm_bin()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).expect("PATH entries contain no separator")
}

/// Everything `trunk build` needs: the wasm target, trunk, wasm-bindgen, wasm-opt.
pub fn ensure_build_tools() -> Result<BuildTools> {
    let tools = BuildTools {
        path_env: path_with_local_tools(),
    };
    ensure_wasm_target()?;
    ensure_cargo_tool(&tools, "trunk", "trunk", TRUNK_VERSION, true)?;
    let bindgen = wasm_bindgen_version()?;
    ensure_cargo_tool(&tools, "wasm-bindgen-cli", "wasm-bindgen", &bindgen, false)?;
    ensure_system_tools(&tools, &[("wasm-opt", "binaryen")])?;
    let found = probe(tools.command("wasm-opt").arg("--version")).unwrap_or_default();
    if !found.contains(&format!("version {WASM_OPT_VERSION}")) {
        bail!(
            "wasm-opt version {WASM_OPT_VERSION} (Debian's binaryen) is required, found `{}`; \
             Trunk.toml pins that version so Trunk never downloads one",
            found.trim()
        );
    }
    ensure_npm_tool(&tools, "esbuild", ESBUILD_VERSION)?;
    Ok(tools)
}

/// Makes npm package `package`'s command of the same name available at exactly `version`,
/// installing it into target/tools/npm if needed (npm itself from apt when missing).
fn ensure_npm_tool(tools: &BuildTools, package: &str, version: &str) -> Result<()> {
    let found = probe(tools.command(package).arg("--version")).unwrap_or_default();
    if found.trim() == version {
        return Ok(());
    }
    ensure_system_tools(tools, &[("npm", "npm")])?;
    println!(
        "xtask: installing {package} {version} from npm into target/tools/npm (found: `{}`)",
        found.trim()
    );
    let prefix = workspace_root().join("target/tools/npm");
    std::fs::create_dir_all(&prefix).with_context(|| format!("creating {}", prefix.display()))?;
    run(
        tools
            .command("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(format!("{package}@{version}")),
        &format!("npm install {package}@{version}"),
    )
}

/// What the browser suites need on top of the build tools.
pub fn ensure_test_tools(tools: &BuildTools) -> Result<()> {
    // A Firefox viewer joins the Chromium ones in some end-to-end tests and benchmarks.
    ensure_cargo_tool(
        tools,
        "geckodriver",
        "geckodriver",
        GECKODRIVER_VERSION,
        true,
    )?;
    let mut wanted = vec![
        ("chromium", "chromium"),
        ("chromedriver", "chromium-driver"),
        ("firefox-esr", "firefox-esr"),
        // ffmpeg makes the end-to-end tests' video clip at test time; espeak-ng and sox make
        // the call tests' microphone sound (speech, speech bursts, silence).
        ("ffmpeg", "ffmpeg"),
        ("espeak-ng", "espeak-ng"),
        ("sox", "sox"),
        // The endpoint's scale-out tests run the shipped deploy/nginx files in a real nginx,
        // and the TURN test checks a minted credential against coturn.
        ("nginx", "nginx"),
        ("turnserver", "coturn"),
    ];
    if crate::network_namespace::available() {
        wanted.push(("ip", "iproute2"));
        // The connectivity tests build NAT routers in namespaces with nftables.
        wanted.push(("nft", "nftables"));
    }
    ensure_system_tools(tools, &wanted)
}

/// What `bench player --sound` needs to give headless Firefox a sound output: a PulseAudio
/// server (run by the probe with a null sink) and `pactl`, to see the browser's stream in it.
pub fn ensure_sound_server() -> Result<()> {
    let tools = BuildTools {
        path_env: path_with_local_tools(),
    };
    ensure_system_tools(
        &tools,
        &[("pulseaudio", "pulseaudio"), ("pactl", "pulseaudio-utils")],
    )
}

/// What the fuzz suite needs: cargo-fuzz, and a C++ compiler for libFuzzer (which
/// `libfuzzer-sys` builds from source). No nightly (see `fuzz.rs`).
pub fn ensure_fuzz_tools() -> Result<BuildTools> {
    let tools = BuildTools {
        path_env: path_with_local_tools(),
    };
    ensure_cargo_tool(&tools, "cargo-fuzz", "cargo-fuzz", CARGO_FUZZ_VERSION, true)?;
    ensure_system_tools(&tools, &[("c++", "g++")])?;
    Ok(tools)
}

fn ensure_wasm_target() -> Result<()> {
    let installed = probe(Command::new("rustup").args(["target", "list", "--installed"]))
        .context("rustup is needed to add the wasm32-unknown-unknown target")?;
    if !installed
        .lines()
        .any(|line| line.trim() == "wasm32-unknown-unknown")
    {
        println!("xtask: adding the wasm32-unknown-unknown target");
        run(
            Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
            "rustup target add",
        )?;
    }
    Ok(())
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match it exactly, and so must Trunk.toml.
pub fn wasm_bindgen_version() -> Result<String> {
    let root = workspace_root();
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let version = locked_version(&lock, "wasm-bindgen")
        .context("Cargo.lock has no wasm-bindgen package; run `cargo generate-lockfile`")?;
    let trunk_toml =
        std::fs::read_to_string(root.join("Trunk.toml")).context("reading Trunk.toml")?;
    if !trunk_toml.contains(&format!("wasm_bindgen = \"{version}\"")) {
        bail!("Trunk.toml must pin `wasm_bindgen = \"{version}\"` to match Cargo.lock, or Trunk will try to download it");
    }
    Ok(version)
}

fn locked_version(lock: &str, package: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"") {
            let version = lines
                .next()?
                .strip_prefix("version = \"")?
                .strip_suffix('"')?;
            return Some(version.to_owned());
        }
    }
    None
}

/// Makes `binary` at exactly `version` available, installing `krate` into target/tools if needed.
fn ensure_cargo_tool(
    tools: &BuildTools,
    krate: &str,
    binary: &str,
    version: &str,
    locked: bool,
) -> Result<()> {
    let found = probe(tools.command(binary).arg("--version")).unwrap_or_default();
    if found.split_whitespace().nth(1) == Some(version) {
        return Ok(());
    }
    println!(
        "xtask: installing {krate} {version} into target/tools (found: `{}`)",
        found.trim()
    );
    let root = local_tools_bin()
        .parent()
        .map(Path::to_path_buf)
        .expect("tools dir has a parent");
    let mut install = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    install
        .args([
            "install",
            krate,
            "--version",
            &format!("={version}"),
            "--root",
        ])
        .arg(&root);
    if locked {
        install.arg("--locked");
    }
    run(&mut install, &format!("installing {krate} {version}"))
}

/// Makes Debian-packaged tools available: one apt-get for all that are missing when running as
/// root, otherwise a clear line naming the packages to install.
fn ensure_system_tools(tools: &BuildTools, wanted: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(binary, _)| {
            probe(
                tools
                    .command("sh")
                    .args(["-c", &format!("command -v {binary}")]),
            )
            .is_none()
        })
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages = missing.join(" ");
    let is_root = crate::command::is_root();
    if !is_root || probe(Command::new("sh").args(["-c", "command -v apt-get"])).is_none() {
        bail!("missing tools: install the Debian packages `{packages}` (e.g. `sudo apt-get install {packages}`)");
    }
    println!("xtask: installing Debian packages: {packages}");
    run(
        Command::new("apt-get").args(["update", "-q"]),
        "apt-get update",
    )?;
    run(
        Command::new("apt-get")
            .args(["install", "-y", "-q"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {packages}"),
    )
}

#[cfg(test)]
mod tests {
    use super::locked_version;

    #[test]
    fn reads_a_version_from_a_lockfile() {
        let lock = "[[package]]\nname = \"wasm-bindgen-futures\"\nversion = \"0.4.1\"\n\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(
            locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(locked_version(lock, "trunk"), None);
    }
}
