//! containerd's free-form identifiers, validated: any text containerd accepts, bounded so a
//! hostile database cannot make one unprintable or unbounded.

use std::fmt;
use std::str::FromStr;

use super::{invalid, ChainId, ContainerId};
use crate::error::{Error, Result};

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(into = "String", try_from = "String")]
        pub struct $name(Box<str>);

        impl TryFrom<String> for $name {
            type Error = Error;

            fn try_from(s: String) -> Result<$name> {
                s.parse()
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<$name> {
                if s.is_empty() || s.len() > 4096 {
                    return Err(invalid($kind, s, "expected 1 to 4096 bytes"));
                }
                if s.chars().any(char::is_control) {
                    return Err(invalid($kind, s, "holds a control character"));
                }
                Ok($name(s.into()))
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        // Free-form text, validated: reading it as a `str` is all a caller does with it.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0.into()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }
    };
}

text_id!(
    /// A containerd snapshot key: `sha256:<chainID>` for a layer, `<container>` and
    /// `<container>-init` for a container, BuildKit's own IDs. containerd accepts any text;
    /// storesnap bounds it (1 to 4096 bytes, no control characters).
    SnapshotKey,
    "snapshot key"
);

text_id!(
    /// A containerd lease ID (a container's ID, BuildKit's random names), bounded as
    /// [`SnapshotKey`].
    LeaseId,
    "lease ID"
);

impl From<&ChainId> for SnapshotKey {
    /// A layer's snapshot is keyed by its chainID.
    fn from(c: &ChainId) -> SnapshotKey {
        SnapshotKey(c.as_str().into())
    }
}

impl From<&ContainerId> for SnapshotKey {
    /// A container's writable snapshot is keyed by its ID.
    fn from(c: &ContainerId) -> SnapshotKey {
        SnapshotKey(c.as_str().into())
    }
}
