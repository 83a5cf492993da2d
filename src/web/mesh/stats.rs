//! Reading `RTCPeerConnection.getStats()` into [`StatsRecord`]s, so that which path a link uses
//! is decided by pure code ([`crate::connectivity::selected_path`]).

use crate::connectivity::{selected_path, CandidateType, LinkPath, PairStats, StatsRecord};
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::RtcPeerConnection;

/// The kind of path the connection's selected candidate pair uses, if it has one yet.
pub async fn read_path(pc: &RtcPeerConnection) -> Result<Option<LinkPath>, JsValue> {
    let report = JsFuture::from(pc.get_stats()).await?;
    // An `RTCStatsReport` is map-like; its `values()` iterates the stats objects.
    let values: js_sys::Function = Reflect::get(&report, &"values".into())?.dyn_into()?;
    let entries = values.call0(&report)?;
    let iterator =
        js_sys::try_iter(&entries)?.ok_or_else(|| JsValue::from_str("stats are not iterable"))?;
    let mut records = Vec::new();
    for entry in iterator {
        records.push(record(&entry?));
    }
    Ok(selected_path(&records))
}

fn record(entry: &JsValue) -> StatsRecord {
    let text = |key: &str| {
        Reflect::get(entry, &key.into())
            .ok()
            .and_then(|value| value.as_string())
    };
    let flag = |key: &str| {
        Reflect::get(entry, &key.into())
            .ok()
            .and_then(|value| value.as_bool())
            .unwrap_or(false)
    };
    match text("type").as_deref() {
        Some("transport") => StatsRecord::Transport {
            selected_pair_id: text("selectedCandidatePairId"),
        },
        Some("candidate-pair") => StatsRecord::CandidatePair(PairStats {
            id: text("id").unwrap_or_default(),
            local_id: text("localCandidateId").unwrap_or_default(),
            remote_id: text("remoteCandidateId").unwrap_or_default(),
            succeeded: text("state").as_deref() == Some("succeeded"),
            nominated: flag("nominated"),
            selected: flag("selected"),
        }),
        Some(kind @ ("local-candidate" | "remote-candidate")) => StatsRecord::Candidate {
            id: text("id").unwrap_or_default(),
            local: kind == "local-candidate",
            candidate_type: text("candidateType")
                .as_deref()
                .and_then(CandidateType::parse),
            // `ip` is the older name of `address`.
            address: text("address").or_else(|| text("ip")),
            relay_protocol: text("relayProtocol"),
        },
        _ => StatsRecord::Other,
    }
}
