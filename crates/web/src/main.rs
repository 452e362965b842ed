//! The viewer's entry point for Trunk.

fn main() {
    storesnap_web::run();
}
