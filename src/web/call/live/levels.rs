//! How loud each voice is, measured with Web Audio: one `AnalyserNode` per stream, read a few
//! dozen times a second. The analysers are dead ends (never connected to the speakers): the
//! sound itself plays through the tiles' elements, whose volumes are the people's own.

use crate::call::{rms_dbfs, SILENCE_DBFS};
use wasm_bindgen::JsValue;
use web_sys::{AnalyserNode, AudioContext, AudioContextState, MediaStream};

/// Samples per reading: about 10 ms at 48 kHz, enough for a level, cheap to read often.
const WINDOW_SAMPLES: u32 = 512;

/// The page's one audio context, made on first use (on a click, so browsers let it run).
#[derive(Clone)]
pub struct Meters {
    context: AudioContext,
}

impl Meters {
    pub fn new() -> Result<Self, JsValue> {
        Ok(Self {
            context: AudioContext::new()?,
        })
    }

    /// A context made without a click starts suspended; call from a click to wake it.
    pub fn resume(&self) {
        if self.context.state() == AudioContextState::Suspended {
            if let Ok(promise) = self.context.resume() {
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
                });
            }
        }
    }

    /// A meter on `stream`'s audio, or an error when it has none.
    pub fn meter(&self, stream: &MediaStream) -> Result<Meter, JsValue> {
        let source = self.context.create_media_stream_source(stream)?;
        let analyser = self.context.create_analyser()?;
        analyser.set_fft_size(WINDOW_SAMPLES);
        source.connect_with_audio_node(&analyser)?;
        Ok(Meter {
            analyser,
            _source: source,
            samples: vec![0.0; WINDOW_SAMPLES as usize],
        })
    }
}

pub struct Meter {
    analyser: AnalyserNode,
    /// Kept so the graph is not collected while we read it.
    _source: web_sys::MediaStreamAudioSourceNode,
    samples: Vec<f32>,
}

impl Meter {
    /// The level of the latest window, in dBFS.
    pub fn read_dbfs(&mut self) -> f64 {
        self.analyser.get_float_time_domain_data(&mut self.samples);
        let level = rms_dbfs(&self.samples);
        if level.is_finite() {
            level
        } else {
            SILENCE_DBFS
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        let _ = self._source.disconnect();
    }
}
