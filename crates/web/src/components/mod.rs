//! The viewer's components. Each takes data and callbacks, never the reducer.

pub mod compare;
pub mod containerd;
pub mod details;
pub mod driver_dirs;
pub mod file_tree;
pub mod findings;
pub mod graph;
pub mod images;
pub mod loader;
pub mod overview;
pub mod raw;
pub mod redactions;
pub mod report;
pub mod store_timeline;
pub mod timeline;
pub mod waste;

use yew::{Callback, KeyboardEvent, MouseEvent};

/// `sha256:0123…` → `0123456789ab`.
pub fn short(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

/// A click, and Enter or Space on the focused element, do the same: everything that can be
/// clicked can be used from the keyboard.
pub fn activation(
    act: impl Fn() + Clone + 'static,
) -> (Callback<MouseEvent>, Callback<KeyboardEvent>) {
    let on_key = act.clone();
    (
        Callback::from(move |_: MouseEvent| act()),
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" || e.key() == " " {
                e.prevent_default();
                e.stop_propagation();
                on_key();
            }
        }),
    )
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
