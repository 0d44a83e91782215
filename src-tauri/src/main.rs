//! The desktop app's entry point; everything else lives in the `madadkar_desktop` library so its
//! commands and generated TypeScript types can be tested.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // First of all: the launch's marks are measured from here (see `launch.rs`).
    madadkar_desktop::launch::process_started();
    madadkar_desktop::run();
}
