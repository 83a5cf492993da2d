#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|script: &[u8]| {
    insieme_signal::fuzzing::run_script(script);
});
