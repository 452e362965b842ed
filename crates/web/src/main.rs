//! The storesnap viewer. This is the shell the viewer issue fills in: it mounts the app and
//! shows what it will do, so the Trunk build and the wasm toolchain are exercised from day one.

use yew::prelude::*;

#[function_component(App)]
fn app() -> Html {
    html! {
        <main class="shell">
            <h1>{ "storesnap" }</h1>
            <p>{ "Open a snapshot written by " }<code>{ "storesnap pack" }</code>
               { " to inspect a Docker image store. Nothing leaves your browser." }</p>
            <p class="muted">{ format!("snapshot format {}", storesnap_core::manifest::FORMAT_VERSION) }</p>
        </main>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
