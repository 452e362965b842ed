use crate::finding::{Code, Finding, Subject};
use crate::store::Store;

/// A reference to an image that is not in the image store.
pub fn dangling(store: &Store, out: &mut Vec<Finding>) {
    for r in &store.references {
        if !store.images.contains_key(&r.image) {
            out.push(Finding::new(
                Code::DanglingReference,
                vec![
                    Subject::Reference(r.name.to_string()),
                    Subject::Image(r.image.clone()),
                ],
                format!(
                    "{} points at image {}, which is not in imagedb",
                    r.name,
                    r.image.short()
                ),
            ));
        }
    }
}
