//! `POST /v1/events` bodies: parsing and validation, the queue round trip, pseudonymisation and
//! the lake file layout. Never panics; every event is either accepted or quarantined; what the
//! producer encodes the consumer decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::event::ValidationPolicy;
use shared::ingest::{decode_messages, lake_files, parse_batch, send_chunks};
use shared::privacy::Pseudonymizer;

const NOW_MS: i64 = 1_767_225_600_000;

fuzz_target!(|body: &[u8]| {
    let Ok(outcome) = parse_batch(body, NOW_MS, &ValidationPolicy::default()) else {
        return;
    };
    let response = outcome.response();
    assert_eq!(
        response.accepted + response.rejected,
        outcome.messages().len()
    );
    let encoded: Vec<String> = outcome
        .messages()
        .iter()
        .map(|m| serde_json::to_string(m).expect("a lake message always encodes"))
        .collect();
    let chunks = send_chunks(encoded.clone());
    assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), encoded.len());
    let mut decoded = decode_messages(encoded.iter().map(String::as_str), NOW_MS);
    for (before, after) in encoded.iter().zip(&decoded) {
        let again = serde_json::to_string(after).expect("a lake message always encodes");
        assert_eq!(before, &again, "the queue round trip changed a message");
    }
    let p = Pseudonymizer::new(b"fuzzing-key-fuzzing-key-fuzzing!").expect("a 32-byte key");
    for m in &mut decoded {
        p.message(m);
    }
    let files = lake_files(&decoded, "0000000000000-0000000000000000");
    let lines: usize = files.iter().map(|(_, body)| body.lines().count()).sum();
    assert_eq!(
        lines,
        decoded.len(),
        "every message lands in exactly one lake line"
    );
    let _ = shared::session::updates(&outcome.accepted);
});
