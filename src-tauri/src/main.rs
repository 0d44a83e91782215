//! The desktop app's entry point; everything else lives in the `madadkar_desktop` library so its
//! commands and generated TypeScript types can be tested.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    madadkar_desktop::run();
}
