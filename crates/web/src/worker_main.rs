//! The archive worker's entry point for Trunk (`data-type="worker"` in index.html).

fn main() {
    storesnap_web::worker::serve();
}
