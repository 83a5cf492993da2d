//! One person: a headless browser process of its own (its own driver, its own profile), driven
//! over WebDriver. Chromium (chromedriver) by default; Firefox (geckodriver) when the person's
//! [`Place::engine`] says so, with its own part in [`super::firefox`].

use super::firefox;
use super::UI_TIMEOUT;
use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::Path;
use std::process::Stdio;
use tokio::process::{Child, Command};

/// Headless Chromium as the tests need it: no sandbox or GPU (root, no display), no background
/// traffic (nothing may leave the machine), autoplay allowed, host candidates as plain IPs (no
/// mDNS names, which a network namespace cannot resolve), and fake camera and microphone.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--window-size=1280,800",
];

/// Which browser a person uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    #[default]
    Chromium,
    Firefox,
}

impl Engine {
    /// The name the benchmarks' `--browsers` takes.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
        }
    }

    #[allow(dead_code)] // read by the benchmarks' `--browsers`, not the tests
    pub fn from_name(name: &str) -> Option<Engine> {
        [Engine::Chromium, Engine::Firefox]
            .into_iter()
            .find(|engine| engine.name() == name)
    }

    fn driver_binary(self) -> String {
        match self {
            Engine::Chromium => {
                std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into())
            }
            Engine::Firefox => firefox::driver_binary(),
        }
    }
}

/// Where a browser runs: this network namespace (the default), or a home network of
/// [`super::network`], with its driver reached over the home's management link.
#[derive(Clone, Debug, Default)]
pub struct Place {
    /// Chromium unless told otherwise.
    pub engine: Engine,
    /// `ip netns exec` into this namespace to start chromedriver (and so Chromium).
    pub netns: Option<String>,
    /// The address the test reaches chromedriver at, and the one chromedriver lets in.
    pub driver_host: Option<(std::net::IpAddr, std::net::IpAddr)>,
    /// Flags beyond [`CHROMIUM_FLAGS`] (Chromium only: a Firefox person refuses them).
    pub extra_flags: Vec<String>,
    /// Camera and microphone as a browser with nobody to answer its permission prompt: every
    /// request is refused until the test grants them ([`Browser::set_media_permission`]).
    /// Without it, `--use-fake-ui-for-media-stream` accepts every request (and overrides even
    /// permissions set to "denied").
    pub media_prompt: bool,
    /// Firefox prefs set over [`super::firefox`]'s (e.g. its shipping autoplay policy, to
    /// measure it); Firefox only.
    pub firefox_prefs: Vec<(String, serde_json::Value)>,
    /// Environment variables for the Firefox process (e.g. `PULSE_SERVER`, for a sound output:
    /// [`super::sound_server`]); Firefox only.
    pub firefox_env: Vec<(String, String)>,
}

/// The flag that answers every camera and microphone prompt with yes.
const FAKE_MEDIA_UI: &str = "--use-fake-ui-for-media-stream";

pub struct Browser {
    pub name: String,
    pub client: Client,
    pub engine: Engine,
    /// The driver, whose descendants are this person's browser processes.
    _driver: Child,
    /// The browser's profile (`profile/`) and, for Firefox, the driver's output (`driver.log`:
    /// the page's console among it).
    _profile: tempfile::TempDir,
}

/// Where a Firefox person's driver output goes, inside its temporary directory.
const DRIVER_LOG: &str = "driver.log";

impl Place {
    /// A Firefox person in this network namespace.
    pub fn firefox() -> Place {
        Place {
            engine: Engine::Firefox,
            ..Default::default()
        }
    }
}

impl Browser {
    /// Starts a browser at `place` (by default Chromium in this network namespace); a start
    /// that fails on a loaded machine is retried a few times.
    pub async fn launch_at(name: &str, place: &Place) -> Result<Self> {
        const ATTEMPTS: u32 = 3;
        let mut attempt = 1;
        loop {
            match Self::launch_once(name, place).await {
                Ok(browser) => return Ok(browser),
                Err(error) if attempt < ATTEMPTS => {
                    eprintln!(
                        "starting {} for {name} failed (attempt {attempt}): {error:#}; retrying",
                        place.engine.name()
                    );
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn launch_once(name: &str, place: &Place) -> Result<Self> {
        let port = free_port()?;
        let profile = tempfile::Builder::new()
            .prefix(&format!("insieme-e2e-{name}-"))
            .tempdir()?;
        let engine = place.engine;
        let driver_binary = engine.driver_binary();
        let mut driver = match &place.netns {
            Some(netns) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", netns, &driver_binary]);
                command
            }
            None => Command::new(&driver_binary),
        };
        let host = match place.driver_host {
            Some((host, _)) => host,
            None => std::net::Ipv4Addr::LOCALHOST.into(),
        };
        let (stdout, stderr, capabilities) = match engine {
            Engine::Chromium => {
                driver.arg(format!("--port={port}"));
                if let Some((_, client)) = place.driver_host {
                    driver.arg(format!("--allowed-ips={client}"));
                }
                let capabilities = chromium_capabilities(place, &profile.path().join("profile"));
                (Stdio::null(), Stdio::null(), capabilities)
            }
            Engine::Firefox => {
                let listen_on = place.driver_host.map(|(host, _)| host);
                driver.args(firefox::driver_args(port, listen_on));
                // Firefox inherits geckodriver's environment.
                driver.envs(place.firefox_env.iter().cloned());
                let profile_dir = profile.path().join("profile");
                std::fs::create_dir_all(&profile_dir)?;
                let capabilities = firefox::capabilities(&profile_dir, place)?;
                let log = std::fs::File::create(profile.path().join(DRIVER_LOG))?;
                (
                    Stdio::from(log.try_clone()?),
                    Stdio::from(log),
                    capabilities,
                )
            }
        };
        let driver = driver
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {driver_binary} for {}", engine.name()))?;
        wait_for_port(host, port)
            .await
            .with_context(|| format!("{driver_binary} did not start"))?;

        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("built as an object")
        };
        let client = ClientBuilder::rustls()
            .context("TLS setup for the WebDriver client")?
            .capabilities(capabilities)
            .connect(&format!("http://{host}:{port}"))
            .await
            .with_context(|| format!("starting {} for {name}", engine.name()))?;
        Ok(Self {
            name: name.to_owned(),
            client,
            engine,
            _driver: driver,
            _profile: profile,
        })
    }

    pub async fn open(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("{} opening {url}", self.name))
    }

    /// Waits up to `timeout` for an element matching `xpath`.
    pub async fn wait_for_xpath(
        &self,
        xpath: &str,
        timeout: std::time::Duration,
    ) -> Result<fantoccini::elements::Element> {
        Ok(self
            .client
            .wait()
            .at_most(timeout)
            .for_element(Locator::XPath(xpath))
            .await?)
    }

    /// Waits for an enabled button with this accessible name.
    pub async fn wait_for_button(&self, name: &str) -> Result<fantoccini::elements::Element> {
        // The accessible name is the button's text, or its aria-label for icon buttons.
        let xpath = format!(
            "//button[(normalize-space()='{name}' or @aria-label='{name}') and not(@disabled)]"
        );
        self.wait_for_xpath(&xpath, UI_TIMEOUT)
            .await
            .with_context(|| format!("{} sees no button {name:?}", self.name))
    }

    /// Clicks the button with this visible name, waiting for it to appear.
    pub async fn click_button(&self, name: &str) -> Result<()> {
        self.wait_for_button(name)
            .await?
            .click()
            .await
            .with_context(|| format!("{} clicking {name:?}", self.name))
    }

    /// Waits until the page's text contains `text`.
    pub async fn wait_for_text(&self, text: &str) -> Result<()> {
        let xpath = format!("//*[contains(normalize-space(), '{text}')]");
        self.wait_for_xpath(&xpath, UI_TIMEOUT)
            .await
            .with_context(|| format!("{} never saw the text {text:?}", self.name))?;
        Ok(())
    }

    /// Types `text` into the text box with this accessible name (its aria-label), replacing it.
    pub async fn type_into(&self, label: &str, text: &str) -> Result<()> {
        // The accessible name is its aria-label, or the text of the <label> pointing at it.
        let xpath = format!(
            "//input[@aria-label='{label}' or @id=//label[normalize-space()='{label}']/@for]"
        );
        let field = self
            .wait_for_xpath(&xpath, UI_TIMEOUT)
            .await
            .with_context(|| format!("{} sees no text box {label:?}", self.name))?;
        field.clear().await?;
        field
            .send_keys(text)
            .await
            .with_context(|| format!("{} typing into {label:?}", self.name))
    }

    /// Opens a room link and answers the name prompt with this browser's name.
    pub async fn join_as(&self, link: &str, name: &str) -> Result<()> {
        self.open(link).await?;
        self.type_into("Your name", name).await?;
        self.click_button("Join the party").await?;
        self.wait_for_text(&format!("{name} (you)")).await
    }

    /// Waits until the people list shows `name` as connected (any playback state).
    pub async fn wait_for_person(&self, name: &str) -> Result<()> {
        self.wait_for_person_within(name, UI_TIMEOUT).await
    }

    /// Like [`Browser::wait_for_person`], for steps that take longer by design.
    pub async fn wait_for_person_within(
        &self,
        name: &str,
        timeout: std::time::Duration,
    ) -> Result<()> {
        let xpath = format!(
            "//li[contains(@class,'person') and not(@data-state='connecting') and not(@data-state='reconnecting') and not(@data-state='unreachable')]\
             /span[@class='name' and normalize-space()='{name}']"
        );
        self.wait_for_xpath(&xpath, timeout)
            .await
            .with_context(|| format!("{} never saw {name} connected", self.name))?;
        Ok(())
    }

    /// Waits until the people list no longer shows `name`.
    pub async fn wait_until_gone(&self, name: &str, timeout: std::time::Duration) -> Result<()> {
        let xpath = format!(
            "//li[contains(@class,'person')]/span[@class='name' and normalize-space()='{name}']"
        );
        anyhow::ensure!(
            self.wait_for_no_xpath(&xpath, timeout).await?,
            "{} still sees {name}",
            self.name
        );
        Ok(())
    }

    /// Waits up to `timeout` until nothing matches `xpath`, checking every 100 ms; false if
    /// something still does then.
    pub async fn wait_for_no_xpath(
        &self,
        xpath: &str,
        timeout: std::time::Duration,
    ) -> Result<bool> {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self
            .client
            .find_all(Locator::XPath(xpath))
            .await?
            .is_empty()
        {
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Ok(true)
    }

    /// The value of a form field, waiting for it to appear.
    pub async fn field_value(&self, css: &str) -> Result<String> {
        let field = self
            .client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("{} sees no field {css}", self.name))?;
        Ok(field.prop("value").await?.unwrap_or_default())
    }

    /// Saves a screenshot and the browser console, for a failed test.
    pub async fn save_artifacts(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        if let Ok(png) = self.client.screenshot().await {
            std::fs::write(dir.join(format!("{}.png", self.name)), png)?;
        }
        let console = match self.engine {
            Engine::Chromium => {
                let read_console = SessionCommand {
                    path: "se/log",
                    body: serde_json::json!({ "type": "browser" }),
                };
                match self.client.issue_cmd(read_console).await {
                    Ok(entries) => format_console(&entries),
                    Err(error) => format!("(could not read the console: {error})\n"),
                }
            }
            // The page's console lines are among the driver's output (`console.log: ...`).
            Engine::Firefox => std::fs::read_to_string(self._profile.path().join(DRIVER_LOG))
                .unwrap_or_else(|error| {
                    format!("(could not read geckodriver's output: {error})\n")
                }),
        };
        // The app's debug lines carry the page's own clock (`performance.now()`, "at X"); the
        // driver's timestamps are when it collected them, often seconds later in one batch. The
        // page's time origin puts its lines on the wall clock, beside the other pages'.
        let origin = self
            .client
            .execute("return performance.timeOrigin", vec![])
            .await
            .ok()
            .and_then(|v| v.as_f64())
            .map_or_else(|| "unknown".to_owned(), |o| format!("{o:.3}"));
        let header =
            format!("# performance.timeOrigin (wall ms of the page's \"at 0\"): {origin}\n");
        std::fs::write(
            dir.join(format!("{}.console.txt", self.name)),
            header + &console,
        )?;
        Ok(())
    }

    /// Runs a DevTools protocol command on the page through chromedriver (e.g.
    /// `Page.addScriptToEvaluateOnNewDocument`), returning its result.
    pub async fn cdp(&self, cmd: &str, params: serde_json::Value) -> Result<serde_json::Value> {
        if self.engine != Engine::Chromium {
            bail!(
                "{} runs {}, which has no DevTools protocol passthrough ({cmd})",
                self.name,
                self.engine.name()
            );
        }
        self.client
            .issue_cmd(SessionCommand {
                path: "goog/cdp/execute",
                body: serde_json::json!({ "cmd": cmd, "params": params }),
            })
            .await
            .with_context(|| format!("{} running the DevTools command {cmd}", self.name))
    }

    /// Runs `source` in every document this browser loads from now on, before the page's own
    /// scripts (so before the app starts).
    pub async fn add_script_before_pages(&self, source: &str) -> Result<()> {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            serde_json::json!({ "source": source }),
        )
        .await?;
        Ok(())
    }

    /// Sets the camera and microphone permissions of the page's current origin ("granted",
    /// "denied" or "prompt") with WebDriver's permissions command. Only meaningful for a browser
    /// launched with [`Place::media_prompt`]: the fake prompt otherwise says yes regardless.
    pub async fn set_media_permission(&self, state: &str) -> Result<()> {
        for name in ["camera", "microphone"] {
            self.client
                .issue_cmd(SessionCommand {
                    path: "permissions",
                    body: serde_json::json!({ "descriptor": { "name": name }, "state": state }),
                })
                .await
                .with_context(|| {
                    format!("{} setting the {name} permission to {state}", self.name)
                })?;
        }
        Ok(())
    }

    /// The process id of this person's driver; the browser's processes descend from it.
    #[allow(dead_code)] // read by the call benchmark, not the tests
    pub fn driver_pid(&self) -> Option<u32> {
        self._driver.id()
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// A POST of `body` to `session/{id}/{path}`: the commands chromedriver serves beyond
/// fantoccini's (its console log `se/log`, kept thanks to `goog:loggingPrefs`; its DevTools
/// passthrough `goog/cdp/execute`; the Permissions spec's `permissions`).
#[derive(Debug)]
struct SessionCommand {
    path: &'static str,
    body: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/{}", self.path))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// Chromium's capabilities: [`CHROMIUM_FLAGS`] and the place's own, its profile, its console kept.
fn chromium_capabilities(place: &Place, profile: &Path) -> serde_json::Value {
    let mut args: Vec<String> = CHROMIUM_FLAGS
        .iter()
        .filter(|flag| !(place.media_prompt && **flag == FAKE_MEDIA_UI))
        .map(|flag| flag.to_string())
        .collect();
    args.extend(place.extra_flags.iter().cloned());
    args.push(format!("--user-data-dir={}", profile.display()));
    serde_json::json!({
        "goog:chromeOptions": { "args": args },
        "goog:loggingPrefs": { "browser": "ALL" },
    })
}

fn format_console(entries: &serde_json::Value) -> String {
    let mut text = String::new();
    for entry in entries.as_array().into_iter().flatten() {
        let level = entry["level"].as_str().unwrap_or("?");
        let message = entry["message"].as_str().unwrap_or("");
        text.push_str(&format!("[{}] {level}: {message}\n", entry["timestamp"]));
    }
    text
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_for_port(host: std::net::IpAddr, port: u16) -> Result<()> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while tokio::net::TcpStream::connect((host, port)).await.is_err() {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "port {port} never opened"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}
