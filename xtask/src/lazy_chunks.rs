//! Parts of the app as downloads of their own: after `trunk build`, the raw wasm is split at its
//! `wasm_split` entry points (the app's `lazy-chunks` feature; today the video call, the host,
//! and the programme: queue, Suggested, ready check and reactions), so the first load carries
//! only what every viewer needs and the rest is fetched when needed.
//!
//! Trunk 0.21 cannot split, so for the shipped build it compiles, writes index.html and the
//! styles, and leaves the wasm unoptimised (index.html's `data-wasm-opt="0"`). This step then
//! takes the wasm cargo linked (with relocations, see .cargo/config.toml) and does the rest:
//! 1. `wasm_split_cli_support` (cargo-leptos's splitter): the main module, one wasm per split
//!    point, and `__wasm_split.js`, the loader the main module imports to fetch them;
//! 2. wasm-bindgen on the main module, keeping the linker's exports the chunks link against,
//!    under Trunk's output names, so index.html's loader stays as Trunk wrote it;
//! 3. wasm-opt on every wasm with [`WASM_OPT_ARGS`];
//! 4. the main module's imports under short names (wasm-bindgen's end in a 16-digit hash,
//!    which no compressor can shrink), and its glue and the loader minified by esbuild;
//! 5. content hashes in the names of the chunks and the loader (a host may cache them for
//!    ever), and fresh integrity hashes in index.html for the two files it preloads.

use crate::command::run;
use crate::tools::BuildTools;
use crate::workspace_root;
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use sha2::{Digest, Sha384};
use std::path::{Path, PathBuf};

/// wasm-opt's settings for every shipped wasm: size first; the post-MVP features rustc emits
/// (binaryen 108 must be told); Rust never uses the first KB of memory (the stack comes
/// first); and optimising until nothing changes, which saves another KB or so.
pub const WASM_OPT_ARGS: &[&str] = &[
    "-Oz",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-multivalue",
    "--low-memory-unused",
    "--converge",
];

/// What the main module imports the chunks' loader as (the splitter's default name).
const LOADER: &str = "__wasm_split.js";

/// Whether a file of `dist/` is fetched only when needed, not on first load: a split-off
/// part (`split_*`), or code two parts share (`chunk_*`, which the loader fetches with the
/// first part that needs it; the main module never imports it).
pub fn is_on_demand(name: &str) -> bool {
    (name.starts_with("split_") || name.starts_with("chunk_")) && name.ends_with(".wasm")
}

/// Where cargo put the app's wasm for `trunk build --release`.
fn raw_wasm() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("wasm32-unknown-unknown/release/insieme.wasm")
}

/// Splits the wasm cargo linked (`raw`) at its entry points into `split_dir`: the main module
/// (returned, ready for wasm-bindgen), the parts, and their loader, which imports the main
/// module's glue as `main_module`.
pub fn split(raw: &Path, split_dir: &Path, main_module: &str) -> Result<PathBuf> {
    let input = std::fs::read(raw).with_context(|| format!("reading {}", raw.display()))?;
    let main_wasm = split_dir.join("main.wasm");
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = split_dir;
    options.main_out_path = &main_wasm;
    options.main_module = main_module;
    options.target.web();
    wasm_split_cli_support::transform(options)
        .map_err(|error| anyhow!("splitting {}: {error:#}", raw.display()))?;

    // rustc lists reference-types among the module's features even though .cargo/config.toml
    // turns them off for codegen; wasm-bindgen would then expect an externref table.
    let main = std::fs::read(&main_wasm)?;
    std::fs::write(
        &main_wasm,
        without_custom_section(&main, "target_features")?,
    )?;
    Ok(main_wasm)
}

/// Splits, binds and optimises the app's wasm into `dist/` (see the module's comment). Returns
/// the names of the files fetched on demand.
pub fn split_into_dist(tools: &BuildTools, dist: &Path) -> Result<Vec<String>> {
    let stem = trunk_output_stem(dist)?;
    let work = workspace_root().join("target/lazy-chunks");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("clearing {}", work.display()))?;
    }
    let split_dir = work.join("split");
    std::fs::create_dir_all(&split_dir)?;

    let main_wasm = split(&raw_wasm(), &split_dir, &format!("./{stem}.js"))?;
    let bound = work.join("bound");
    run(
        tools
            .command("wasm-bindgen")
            .args(["--target", "web", "--no-typescript", "--keep-lld-exports"])
            .args(["--out-name", &stem, "--out-dir"])
            .arg(&bound)
            .arg(&main_wasm),
        "wasm-bindgen (main module)",
    )?;

    let preloaded = [format!("{stem}.js"), format!("{stem}_bg.wasm")];
    let old_integrity: Vec<String> = preloaded
        .iter()
        .map(|name| Ok(integrity(&std::fs::read(dist.join(name))?)))
        .collect::<Result<_>>()?;

    // The chunks first: the loader names them, and the main module's glue names the loader.
    let mut loader = std::fs::read_to_string(split_dir.join(LOADER))
        .with_context(|| format!("the splitter wrote no {LOADER}"))?;
    let mut on_demand = Vec::new();
    for chunk in chunk_names(&split_dir)? {
        let optimised = work.join(&chunk);
        optimise(tools, &split_dir.join(&chunk), &optimised)?;
        let bytes = std::fs::read(&optimised)?;
        let hashed = hashed_name(&chunk, &bytes);
        let reference = format!("\"./{chunk}\"");
        if !loader.contains(&reference) {
            bail!("{LOADER} does not fetch {chunk} as {reference}");
        }
        loader = loader.replace(&reference, &format!("\"./{hashed}\""));
        std::fs::write(dist.join(&hashed), bytes)?;
        on_demand.push(hashed);
    }
    let loader = minified(tools, &work, LOADER, &loader)?;
    let loader_name = hashed_name(LOADER, loader.as_bytes());
    std::fs::write(dist.join(&loader_name), &loader)?;

    let mut glue = std::fs::read_to_string(bound.join(format!("{stem}.js")))?;
    let bound_wasm = bound.join(format!("{stem}_bg.wasm"));
    let wasm = std::fs::read(&bound_wasm)?;
    let (wasm, renamed) = with_short_import_names(&wasm, &format!("./{stem}_bg.js"), &glue)?;
    for (long, short) in &renamed {
        glue = glue.replace(&format!("{long}: function"), &format!("{short}: function"));
    }
    std::fs::write(&bound_wasm, wasm)?;
    // Only the import statements (wasm-bindgen writes one per split point): the same string
    // is also the key of the wasm's import object, which must keep the name the wasm asks for.
    let import = format!("from \"./{LOADER}\"");
    if !glue.contains(&import) {
        bail!("the main module's glue does not import the loader as `{import}`");
    }
    let glue = glue.replace(&import, &format!("from \"./{loader_name}\""));
    std::fs::write(
        dist.join(&preloaded[0]),
        minified(tools, &work, &preloaded[0], &glue)?,
    )?;
    optimise(
        tools,
        &bound.join(format!("{stem}_bg.wasm")),
        &dist.join(&preloaded[1]),
    )?;

    let index = dist.join("index.html");
    let mut html = std::fs::read_to_string(&index).context("reading dist/index.html")?;
    for (name, old) in preloaded.iter().zip(&old_integrity) {
        if !html.contains(old.as_str()) {
            bail!("dist/index.html carries no integrity {old} for {name}");
        }
        html = html.replace(old.as_str(), &integrity(&std::fs::read(dist.join(name))?));
    }
    std::fs::write(&index, html)?;
    Ok(on_demand)
}

/// `js` (an ES module) minified by esbuild: about 1.3 KB less of the glue and 0.4 KB of the
/// loader to download, gzipped. Names the module exports and the strings it imports from are
/// kept, and so are property names (the keys of the wasm's import object among them).
fn minified(tools: &BuildTools, work: &Path, name: &str, js: &str) -> Result<String> {
    let input = work.join(format!("unminified-{name}"));
    let output = work.join(format!("minified-{name}"));
    std::fs::write(&input, js)?;
    run(
        tools
            .command("esbuild")
            .arg(&input)
            .args(["--minify", "--format=esm", "--log-level=warning"])
            // wasm-bindgen names the loader once per split point in the wasm's import object;
            // every one is the same module, so which key wins does not matter.
            .arg("--log-override:duplicate-object-key=silent")
            .arg(format!("--outfile={}", output.display())),
        &format!("esbuild (minifying {name})"),
    )?;
    std::fs::read_to_string(&output).with_context(|| format!("reading {}", output.display()))
}

/// Import names changed: (old, new).
type Renames = Vec<(String, String)>;

/// `wasm` with every import from `module` that `glue` mentions only to define it, as
/// `NAME: function`, renamed
/// `w0`, `w1`, …, and the renames made (old, new). Imports the glue does not define that way
/// keep their names.
fn with_short_import_names(wasm: &[u8], module: &str, glue: &str) -> Result<(Vec<u8>, Renames)> {
    let sections = sections(wasm)?;
    let mut renamed = Vec::new();
    let mut out = wasm[..8].to_vec();
    for section in sections {
        if section.id != 2 {
            out.extend_from_slice(&wasm[section.whole]);
            continue;
        }
        // The import section: a count, then (module, field, kind, what the kind needs).
        let (mut at, end) = (section.body.start, section.body.end);
        let mut body = Vec::new();
        let count = leb128(wasm, &mut at)?;
        write_leb128(&mut body, count);
        for _ in 0..count {
            let import_module = name(wasm, &mut at)?;
            let field = name(wasm, &mut at)?;
            let described_from = at;
            skip_import_description(wasm, &mut at)?;
            let definition = format!("{field}: function");
            // Only a name the glue mentions once, where it defines it: nothing else refers to it.
            let new_field = if import_module == module
                && glue.matches(field).count() == 1
                && glue.contains(&definition)
            {
                let short = format!("w{}", renamed.len());
                renamed.push((field.to_owned(), short.clone()));
                short
            } else {
                field.to_owned()
            };
            for text in [import_module, new_field.as_str()] {
                write_leb128(&mut body, text.len());
                body.extend_from_slice(text.as_bytes());
            }
            body.extend_from_slice(&wasm[described_from..at]);
        }
        if at != end {
            bail!("the import section does not end where its length says");
        }
        out.push(2);
        write_leb128(&mut out, body.len());
        out.extend(body);
    }
    Ok((out, renamed))
}

fn name<'a>(wasm: &'a [u8], at: &mut usize) -> Result<&'a str> {
    let length = leb128(wasm, at)?;
    let bytes = wasm.get(*at..*at + length).context("truncated wasm name")?;
    *at += length;
    std::str::from_utf8(bytes).context("a wasm name is not UTF-8")
}

/// Steps over an import's kind and what it needs (a type index, table, memory or global).
fn skip_import_description(wasm: &[u8], at: &mut usize) -> Result<()> {
    let kind = *wasm.get(*at).context("truncated import")?;
    *at += 1;
    let limits = |at: &mut usize| -> Result<()> {
        let flags = *wasm.get(*at).context("truncated limits")?;
        *at += 1;
        leb128(wasm, at)?;
        if flags & 1 == 1 {
            leb128(wasm, at)?;
        }
        Ok(())
    };
    match kind {
        0 => {
            leb128(wasm, at)?;
        }
        1 => {
            *at += 1; // the element type
            limits(at)?;
        }
        2 => limits(at)?,
        3 => *at += 2, // the value type, and mutability
        other => bail!("an import of unknown kind {other}"),
    }
    Ok(())
}

fn write_leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn leb128(bytes: &[u8], at: &mut usize) -> Result<usize> {
    let (mut value, mut shift) = (0usize, 0);
    loop {
        let byte = *bytes.get(*at).context("truncated wasm")?;
        *at += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
        shift += 7;
        if shift > 28 {
            bail!("malformed LEB128 number in the wasm");
        }
    }
}

/// `insieme-<hash>`, the name Trunk gave the app's glue and wasm.
fn trunk_output_stem(dist: &Path) -> Result<String> {
    for entry in std::fs::read_dir(dist).with_context(|| format!("listing {}", dist.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix("_bg.wasm") {
            if stem.starts_with("insieme-") {
                return Ok(stem.to_owned());
            }
        }
    }
    bail!("{} holds no insieme-*_bg.wasm from trunk", dist.display())
}

/// The split-off modules the splitter wrote, in a stable order.
fn chunk_names(split_dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(split_dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".wasm") && name != "main.wasm" {
            names.push(name);
        }
    }
    names.sort();
    if names.is_empty() {
        bail!(
            "the splitter found no split point: was the app built with `--features lazy-chunks`?"
        );
    }
    Ok(names)
}

fn optimise(tools: &BuildTools, input: &Path, output: &Path) -> Result<()> {
    run(
        tools
            .command("wasm-opt")
            .args(WASM_OPT_ARGS)
            .arg(input)
            .arg("-o")
            .arg(output),
        "wasm-opt",
    )
}

/// `name` with the first 16 hex digits of its content's SHA-384 before the extension.
fn hashed_name(name: &str, content: &[u8]) -> String {
    let digest = Sha384::digest(content);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    match name.rsplit_once('.') {
        Some((base, extension)) => format!("{base}-{hex}.{extension}"),
        None => format!("{name}-{hex}"),
    }
}

/// A subresource-integrity value, as Trunk writes them.
fn integrity(content: &[u8]) -> String {
    let digest = Sha384::digest(content);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// `wasm` without the custom section called `name` (custom sections, id 0, start with their
/// name).
pub fn without_custom_section(wasm: &[u8], name: &str) -> Result<Vec<u8>> {
    let sections = sections(wasm)?;
    let mut out = wasm[..8].to_vec();
    for section in sections {
        let is_it = section.id == 0 && {
            let mut name_at = section.body.start;
            let name_length = leb128(wasm, &mut name_at)?;
            wasm.get(name_at..name_at + name_length) == Some(name.as_bytes())
        };
        if !is_it {
            out.extend_from_slice(&wasm[section.whole]);
        }
    }
    Ok(out)
}

/// One section of a wasm module: its id, and where it lies whole and without its header.
struct Section {
    id: u8,
    whole: std::ops::Range<usize>,
    body: std::ops::Range<usize>,
}

/// The sections of `wasm`, after its 8-byte header (a module is a header and a list of
/// sections: an id byte, a LEB128 length, the contents).
fn sections(wasm: &[u8]) -> Result<Vec<Section>> {
    if wasm.get(..4) != Some(b"\0asm") || wasm.len() < 8 {
        bail!("not a wasm module");
    }
    let mut found = Vec::new();
    let mut at = 8;
    while at < wasm.len() {
        let start = at;
        let id = wasm[at];
        at += 1;
        let length = leb128(wasm, &mut at)?;
        let end = at
            .checked_add(length)
            .filter(|&e| e <= wasm.len())
            .context("truncated wasm")?;
        found.push(Section {
            id,
            whole: start..end,
            body: at..end,
        });
        at = end;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_the_code_they_share_are_on_demand_and_nothing_else() {
        for later in ["split_call-0123.wasm", "chunk_4-0123.wasm"] {
            assert!(is_on_demand(later), "{later}");
        }
        for first in [
            "insieme-0123_bg.wasm",
            "__wasm_split-0123.js",
            "chunk_4.css",
        ] {
            assert!(!is_on_demand(first), "{first}");
        }
    }

    #[test]
    fn hashed_names_change_with_the_content_and_keep_the_extension() {
        let a = hashed_name("split_call.wasm", b"one");
        let b = hashed_name("split_call.wasm", b"two");
        assert!(a.starts_with("split_call-") && a.ends_with(".wasm"), "{a}");
        assert_ne!(a, b);
        assert_eq!(a, hashed_name("split_call.wasm", b"one"));
    }

    #[test]
    fn integrity_matches_the_sri_format() {
        // SHA-384 of the empty string, as `openssl dgst -sha384 -binary | base64` prints it.
        assert_eq!(
            integrity(b""),
            "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"
        );
    }

    /// A module of a header, a type section and an import section of `imports`
    /// (module, field, what the import's kind needs).
    fn module_importing(imports: &[(&str, &str, &[u8])]) -> Vec<u8> {
        let mut section = vec![imports.len() as u8];
        for (module, field, description) in imports {
            for text in [module, field] {
                section.push(text.len() as u8);
                section.extend(text.as_bytes());
            }
            section.extend(*description);
        }
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend([1, 4, 1, 0x60, 0, 0]);
        wasm.push(2);
        wasm.push(section.len() as u8);
        wasm.extend(section);
        wasm
    }

    #[test]
    fn imports_the_glue_defines_get_short_names_and_nothing_else_changes() {
        // Two functions from "m" (one the glue defines, one it does not), a function from
        // "other", and a memory from "m".
        const FUNCTION: &[u8] = &[0, 0];
        const MEMORY: &[u8] = &[2, 1, 17, 32];
        let wasm = module_importing(&[
            ("m", "__wbg_alert_0123456789abcdef", FUNCTION),
            ("m", "__wbg_kept_fedcba9876543210", FUNCTION),
            ("other", "__wbg_alert_0123456789abcdef", FUNCTION),
            ("m", "memory", MEMORY),
        ]);
        let glue = "const i = {\n__wbg_alert_0123456789abcdef: function(a) {},\n};";
        let (out, renamed) = with_short_import_names(&wasm, "m", glue).unwrap();
        assert_eq!(
            renamed,
            vec![("__wbg_alert_0123456789abcdef".to_owned(), "w0".to_owned())]
        );
        let expected = module_importing(&[
            ("m", "w0", FUNCTION),
            ("m", "__wbg_kept_fedcba9876543210", FUNCTION),
            ("other", "__wbg_alert_0123456789abcdef", FUNCTION),
            ("m", "memory", MEMORY),
        ]);
        assert_eq!(out, expected);
    }

    #[test]
    fn a_custom_section_is_dropped_and_the_rest_kept() {
        // Header, a custom section "keep" (id 0), a custom section "drop", a type section.
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend([0, 6, 4, b'k', b'e', b'e', b'p', 9]);
        wasm.extend([0, 5, 4, b'd', b'r', b'o', b'p']);
        wasm.extend([1, 1, 0]);
        let out = without_custom_section(&wasm, "drop").unwrap();
        let mut expected = b"\0asm\x01\0\0\0".to_vec();
        expected.extend([0, 6, 4, b'k', b'e', b'e', b'p', 9]);
        expected.extend([1, 1, 0]);
        assert_eq!(out, expected);
        assert!(without_custom_section(b"nope", "x").is_err());
        // A section that runs past the end is an error, not a short module.
        assert!(without_custom_section(&wasm[..wasm.len() - 1], "x").is_err());
    }
}
