//! Validated identifiers of the Docker image store.
//!
//! Each identifier is parsed once, at the edge, and is valid from then on: a [`Digest`] is always
//! `sha256:` followed by 64 lowercase hex digits. The newtypes keep the roles apart that Docker's
//! own code keeps apart (`layer.DiffID` vs `layer.ChainID`), so a diffID can never be looked up
//! where a chainID is expected.

use std::fmt;
use std::str::FromStr;

mod text;
pub use text::{LeaseId, SnapshotKey};

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// A content digest, `sha256:<64 lowercase hex>`.
///
/// Only sha256 exists in the files Docker writes under its data root.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    // Always "sha256:" + 64 lowercase hex digits.
    text: Box<str>,
}

const SHA256_PREFIX: &str = "sha256:";

impl Digest {
    /// The digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest::from_raw(&Sha256::digest(bytes))
    }

    /// The digest a finished sha256 hasher holds.
    pub fn from_sha256(hasher: Sha256) -> Digest {
        Digest::from_raw(&hasher.finalize())
    }

    fn from_raw(raw: &[u8]) -> Digest {
        let mut text = String::with_capacity(SHA256_PREFIX.len() + 64);
        text.push_str(SHA256_PREFIX);
        push_hex(&mut text, raw);
        Digest { text: text.into() }
    }

    /// Parses a bare 64-hex string, as found in directory names like `layerdb/sha256/<hex>`.
    pub fn from_hex(hex: &str) -> Result<Digest> {
        validate_hex(hex).map_err(|reason| invalid("digest", hex, reason))?;
        Ok(Digest {
            text: format!("{SHA256_PREFIX}{hex}").into(),
        })
    }

    /// The full form, `sha256:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The 64 hex digits, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.text[SHA256_PREFIX.len()..]
    }

    /// The 12-digit short form that the docker CLI prints.
    pub fn short(&self) -> &str {
        &self.hex()[..12]
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Digest> {
        let Some((algorithm, hex)) = s.split_once(':') else {
            return Err(invalid("digest", s, "missing \"sha256:\" prefix"));
        };
        if algorithm != "sha256" {
            return Err(invalid("digest", s, "unsupported algorithm (only sha256)"));
        }
        validate_hex(hex).map_err(|reason| invalid("digest", s, reason))?;
        Ok(Digest { text: s.into() })
    }
}

fn validate_hex(hex: &str) -> std::result::Result<(), &'static str> {
    if hex.len() != 64 {
        return Err("expected 64 hex digits");
    }
    if !hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err("expected lowercase hex digits");
    }
    Ok(())
}

fn invalid(kind: &'static str, value: &str, reason: &'static str) -> Error {
    // Hostile input may be huge; the message keeps only its start.
    let value: String = value.chars().take(100).collect();
    Error::InvalidId {
        kind,
        value,
        reason,
    }
}

pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.text)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

macro_rules! digest_newtype {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Digest);

        impl $name {
            /// Parses the bare hex form used in directory names.
            pub fn from_hex(hex: &str) -> Result<$name> {
                validate_hex(hex).map_err(|reason| invalid($kind, hex, reason))?;
                Ok($name(Digest::from_hex(hex)?))
            }

            /// The underlying digest.
            pub fn digest(&self) -> &Digest {
                &self.0
            }

            /// The full form, `sha256:<hex>`.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// The 64 hex digits.
            pub fn hex(&self) -> &str {
                self.0.hex()
            }

            /// The 12-digit short form.
            pub fn short(&self) -> &str {
                self.0.short()
            }
        }

        impl From<Digest> for $name {
            fn from(d: Digest) -> $name {
                $name(d)
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<$name> {
                s.parse::<Digest>()
                    .map($name)
                    .map_err(|e| match e {
                        Error::InvalidId { value, reason, .. } => Error::InvalidId { kind: $kind, value, reason },
                        other => other,
                    })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0.as_str())
            }
        }
    };
}

digest_newtype!(
    /// The digest of a layer's uncompressed tar (`layerdb/sha256/<chain>/diff`, `rootfs.diff_ids`).
    DiffId,
    "diffID"
);
digest_newtype!(
    /// A layer's identity within a stack: the name of its `layerdb/sha256/<hex>` directory.
    ChainId,
    "chainID"
);
digest_newtype!(
    /// An image ID: the sha256 of the exact image config bytes.
    ImageId,
    "image ID"
);

impl ChainId {
    /// The chainID of the layer made by applying `diff` on top of the layer `self`.
    ///
    /// The hashed bytes are exactly `"sha256:<parent hex> sha256:<diff hex>"` (moby
    /// `layer.CreateChainID`, image-spec `identity.ChainID`).
    pub fn child(&self, diff: &DiffId) -> ChainId {
        let mut h = Sha256::new();
        h.update(self.as_str().as_bytes());
        h.update(b" ");
        h.update(diff.as_str().as_bytes());
        ChainId(Digest::from_raw(&h.finalize()))
    }
}

/// The chainID of a stack of layers, base first; `None` for an empty stack.
pub fn chain_id(diff_ids: &[DiffId]) -> Option<ChainId> {
    let (base, rest) = diff_ids.split_first()?;
    Some(
        rest.iter()
            .fold(ChainId(base.0.clone()), |chain, diff| chain.child(diff)),
    )
}

/// A graph-driver directory name (`cache-id`, `mount-id`, `init-id`).
///
/// New layers get 64 random hex digits; layers migrated in Docker 1.10 keep their v1 ID, and
/// init layers append `-init`. The check is therefore about safety, not shape: the value must be
/// usable as one path component.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CacheId(Box<str>);

impl CacheId {
    /// The directory name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CacheId {
    type Err = Error;

    fn from_str(s: &str) -> Result<CacheId> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if s.is_empty() || s.len() > 128 {
            return Err(invalid("cache ID", s, "expected 1 to 128 characters"));
        }
        if s == "." || s == ".." || !s.chars().all(ok_char) {
            return Err(invalid("cache ID", s, "not a single path component"));
        }
        Ok(CacheId(s.into()))
    }
}

impl TryFrom<String> for CacheId {
    type Error = Error;
    fn try_from(s: String) -> Result<CacheId> {
        s.parse()
    }
}

impl From<CacheId> for String {
    fn from(c: CacheId) -> String {
        c.0.into()
    }
}

impl fmt::Display for CacheId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CacheId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheId({:?})", &*self.0)
    }
}

/// A reference as repositories.json keys it: `repo:tag` or `repo@sha256:<hex>`, the repository
/// possibly with a registry (`localhost:5000/app:v1`). Validated as Docker's reference grammar
/// bounds it: a repository of at most 255 characters without spaces or control characters, a
/// tag of `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, a digest that parses.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RefName {
    text: Box<str>,
    /// Where the repository ends (at the `:` or `@`).
    split: usize,
}

impl RefName {
    /// The whole reference, as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `localhost:5000/app` in `localhost:5000/app:v1`.
    pub fn repository(&self) -> &str {
        &self.text[..self.split]
    }

    /// The tag, for a `repo:tag` reference.
    pub fn tag(&self) -> Option<&str> {
        self.text[self.split..].strip_prefix(':')
    }

    /// The digest, for a `repo@sha256:…` reference.
    pub fn digest(&self) -> Option<&str> {
        self.text[self.split..].strip_prefix('@')
    }

    /// A fully qualified name as containerd keeps it (`docker.io/library/alpine:3.20`), made
    /// familiar the way the docker CLI prints it (`alpine:3.20`).
    pub fn from_qualified(name: &str) -> Result<RefName> {
        let familiar = match name.strip_prefix("docker.io/") {
            Some(rest) => match rest.strip_prefix("library/") {
                Some(short) if !short.contains('/') => short,
                _ => rest,
            },
            None => name,
        };
        familiar.parse()
    }

    /// The name Docker sorts references by: fully qualified (`docker.io/library/…`).
    pub fn qualified(&self) -> String {
        let familiar = self.as_str();
        match familiar.split_once('/') {
            None => format!("docker.io/library/{familiar}"),
            Some((first, _))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                familiar.to_owned()
            }
            Some(_) => format!("docker.io/{familiar}"),
        }
    }
}

impl FromStr for RefName {
    type Err = Error;

    fn from_str(s: &str) -> Result<RefName> {
        let bad = |reason| invalid("reference", s, reason);
        let (split, rest_ok) = if let Some(at) = s.rfind('@') {
            (at, s[at + 1..].parse::<Digest>().is_ok())
        } else {
            let last_slash = s.rfind('/').map_or(0, |i| i + 1);
            let Some(colon) = s[last_slash..].rfind(':').map(|i| last_slash + i) else {
                return Err(bad("expected repo:tag or repo@digest"));
            };
            let tag = &s[colon + 1..];
            let ok = (1..=128).contains(&tag.len())
                && tag.bytes().enumerate().all(|(i, b)| {
                    b.is_ascii_alphanumeric() || b == b'_' || (i > 0 && matches!(b, b'.' | b'-'))
                });
            (colon, ok)
        };
        if !rest_ok {
            return Err(bad("not a valid tag or digest"));
        }
        let repo = &s[..split];
        if repo.is_empty() || repo.len() > 255 {
            return Err(bad("expected a repository of 1 to 255 characters"));
        }
        if repo
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@')
        {
            return Err(bad("the repository holds spaces or control characters"));
        }
        Ok(RefName {
            text: s.into(),
            split,
        })
    }
}

impl TryFrom<String> for RefName {
    type Error = Error;
    fn try_from(s: String) -> Result<RefName> {
        s.parse()
    }
}

impl From<RefName> for String {
    fn from(r: RefName) -> String {
        r.text.into()
    }
}

impl fmt::Display for RefName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for RefName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefName({:?})", &*self.text)
    }
}

/// A container ID: the name of its `containers/<id>` and `layerdb/mounts/<id>` directories.
///
/// moby generates 64 random lowercase hex digits (`stringid.GenerateRandomID`) and its own
/// `layer_store` rejects any other mount name, so anything else is not a container.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContainerId(Box<str>);

impl ContainerId {
    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 12-digit short form `docker ps` prints.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

impl FromStr for ContainerId {
    type Err = Error;

    fn from_str(s: &str) -> Result<ContainerId> {
        validate_hex(s).map_err(|reason| invalid("container ID", s, reason))?;
        Ok(ContainerId(s.into()))
    }
}

impl TryFrom<String> for ContainerId {
    type Error = Error;
    fn try_from(s: String) -> Result<ContainerId> {
        s.parse()
    }
}

impl From<ContainerId> for String {
    fn from(c: ContainerId) -> String {
        c.0.into()
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContainerId({:?})", &*self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_as_docker_writes_them() {
        let digest = format!("sha256:{}", "a".repeat(64));
        for (text, repo, tag, dig) in [
            ("alpine:3.20", "alpine", Some("3.20"), None),
            (
                "localhost:5000/app:v1",
                "localhost:5000/app",
                Some("v1"),
                None,
            ),
            (
                &*format!("127.0.0.1:5000/x/y@{digest}"),
                "127.0.0.1:5000/x/y",
                None,
                Some(&*digest),
            ),
        ] {
            let r: RefName = text.parse().unwrap();
            assert_eq!(
                (r.repository(), r.tag(), r.digest()),
                (repo, tag, dig),
                "{text}"
            );
            assert_eq!(r.as_str(), text);
        }
        for bad in [
            "alpine",
            "localhost:5000/app",
            ":tag",
            "a b:c",
            "x:-tag",
            "x@sha256:zz",
            &format!("x:{}", "t".repeat(129)),
            &format!("{}:t", "r".repeat(256)),
        ] {
            assert!(bad.parse::<RefName>().is_err(), "{bad}");
        }
    }

    #[track_caller]
    fn check_chain(diffs: &[&str], expected: &str) {
        let diffs: Vec<DiffId> = diffs.iter().map(|d| d.parse().unwrap()).collect();
        assert_eq!(chain_id(&diffs).unwrap().as_str(), expected);
    }

    #[test]
    fn chain_id_of_one_layer_is_its_diff_id() {
        let d = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";
        check_chain(&[d], d);
    }

    #[test]
    fn chain_id_hashes_parent_space_diff() {
        // Golden values from: printf 'sha256:<parent> sha256:<diff>' | sha256sum
        let d = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";
        check_chain(
            &[d, d],
            "sha256:170b376f64fb30995c140276be3d71dfb256b308d86183ca3b22aa93a79ad548",
        );
        check_chain(
            &[d, d, d],
            "sha256:7800f80a93336d416612f372faa5f69eb67b353ce6ae9535fa0848f8784c74b1",
        );
        assert_eq!(chain_id(&[]), None);
    }

    #[test]
    fn rejects_malformed_digests() {
        for bad in [
            "",
            "sha256:",
            "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
            "sha512:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
            "sha256:5F70BF18A086007016E948B04AED3B82103A36BEA41755B6CDDFAF10ACE3C6EF",
            "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6e",
            "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6efa",
            "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6e\n",
            "sha256:zz70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn newtype_errors_name_their_role() {
        let err = "sha256:nothex".parse::<ChainId>().unwrap_err().to_string();
        assert!(err.starts_with("invalid chainID"), "{err}");
    }

    #[test]
    fn cache_ids_are_single_path_components() {
        for good in [
            "a3f1",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-init",
        ] {
            assert!(good.parse::<CacheId>().is_ok(), "{good:?} was rejected");
        }
        for bad in ["", ".", "..", "a/b", "../etc", "a b", "x\0"] {
            assert!(bad.parse::<CacheId>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn serde_goes_through_the_string_form() {
        let d: DiffId = serde_json::from_str(
            "\"sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef\"",
        )
        .unwrap();
        assert_eq!(d.short(), "5f70bf18a086");
        assert!(serde_json::from_str::<DiffId>("\"sha256:00\"").is_err());
    }
}
