//! Docker's graph-driver store: `image/<driver>/` (imagedb, layerdb, repositories.json,
//! distribution) beside the driver's own `<driver>/` directory, and `containers/`.

pub mod driver;
pub(crate) mod load;
pub mod policy;

pub use crate::source::files::Files;
pub use driver::Driver;
pub use load::load;
