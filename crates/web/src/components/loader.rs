//! Opening a snapshot or a `docker save` archive: a file picker and the demo.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LoaderProps {
    pub on_file: Callback<web_sys::File>,
    pub on_demo: Callback<()>,
    /// With a snapshot open: compare it with a second file.
    #[prop_or_default]
    pub on_compare: Option<Callback<web_sys::File>>,
}

#[function_component(Loader)]
pub fn loader(props: &LoaderProps) -> Html {
    let onchange = {
        let on_file = props.on_file.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                on_file.emit(file);
            }
        })
    };
    let on_demo = props.on_demo.reform(|_: MouseEvent| ());
    let compare = props.on_compare.clone().map(|on_compare| {
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                on_compare.emit(file);
            }
            // The same file again is a new comparison.
            input.set_value("");
        })
    });
    html! {
        <div class="loader">
            // The input is hidden from sight, not from the keyboard: Tab reaches it, and the
            // label shows its focus.
            <label class="button">{ "Open snapshot or archive…" }
                <input type="file" id="file" class="visually-hidden"
                    accept=".gz,.tgz,.tar,.zst,application/gzip,application/x-tar" {onchange} />
            </label>
            <button id="demo" onclick={on_demo}>{ "Open the demo" }</button>
            if let Some(onchange) = compare {
                <label class="button" title="Compare the open snapshot with a later one of the same store">
                    { "Compare with…" }
                    <input type="file" id="compare-file" class="visually-hidden"
                        accept=".gz,.tgz,.tar,.zst,application/gzip,application/x-tar" {onchange} />
                </label>
            }
        </div>
    }
}
