//! The start of a file as it is in the snapshot, for files that did not parse: text when it is
//! text, else a hex dump, so a maintainer sees the truncation, the NULs or the garbage.

use yew::prelude::*;

/// Bytes shown of a file; the snapshot keeps a few KiB of each named file.
const SHOWN: usize = 1024;

/// `bytes` as text (NULs and other controls shown as `␀`, `·`) when it is UTF-8 with few
/// controls, else as `xxd` would print it.
pub fn dump(bytes: &[u8]) -> String {
    let bytes = &bytes[..bytes.len().min(SHOWN)];
    let controls = bytes
        .iter()
        .filter(|b| b.is_ascii_control() && !b" \t\r\n".contains(b))
        .count();
    match std::str::from_utf8(bytes) {
        Ok(text) if controls * 20 <= bytes.len() => text
            .chars()
            .map(|c| match c {
                '\0' => '␀',
                '\t' | '\n' | '\r' => c,
                c if c.is_control() => '·',
                c => c,
            })
            .collect(),
        _ => bytes
            .chunks(16)
            .enumerate()
            .map(|(i, line)| {
                let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
                let text: String = line
                    .iter()
                    .map(|&b| {
                        if b.is_ascii_graphic() || b == b' ' {
                            b as char
                        } else {
                            '.'
                        }
                    })
                    .collect();
                format!("{:08x}: {:<47}  {text}\n", i * 16, hex.join(" "))
            })
            .collect(),
    }
}

#[derive(Properties, PartialEq)]
pub struct RawProps {
    pub path: String,
    /// The kept start of the file; `None` when the snapshot does not have it.
    pub bytes: Option<Vec<u8>>,
}

#[function_component(Raw)]
pub fn raw(props: &RawProps) -> Html {
    match &props.bytes {
        None => html! {
            <p class="muted" data-raw-path={props.path.clone()}>{ format!("{} is not in the snapshot.", props.path) }</p>
        },
        Some(bytes) if bytes.is_empty() => html! {
            <p class="muted" data-raw-path={props.path.clone()}>{ format!("{} is empty (0 bytes).", props.path) }</p>
        },
        Some(bytes) => html! {
            <figure class="raw">
                <figcaption class="mono">{ format!("{} (first {} bytes)", props.path, bytes.len().min(SHOWN)) }</figcaption>
                <pre class="raw mono" data-raw-path={props.path.clone()}>{ dump(bytes) }</pre>
            </figure>
        },
    }
}
