use crate::finding::{Code, Finding, Subject};
use crate::store::Store;

/// A container whose image is gone.
pub fn images(store: &Store, out: &mut Vec<Finding>) {
    for c in store.containers.values() {
        let Some(image) = &c.image else { continue };
        if !store.images.contains_key(image) {
            out.push(Finding::new(
                Code::ContainerImageMissing,
                vec![
                    Subject::Container(c.id.clone()),
                    Subject::Image(image.clone()),
                ],
                format!(
                    "container {} ({}): its image {} is not in imagedb",
                    c.name,
                    c.id.short(),
                    image.short()
                ),
            ));
        }
    }
}
