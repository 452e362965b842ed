//! Following an image's target through the content store: an index names platform manifests,
//! a manifest names a config and layers. What each blob is comes only from here.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::id::Digest;
use crate::store::{BlobKind, Descriptor, PlatformManifest, Target};

/// An index's nesting is one level in practice; more than this is a hostile loop.
const MAX_NESTING: usize = 4;

pub(crate) fn descriptor(v: &Value) -> Option<Descriptor> {
    Some(Descriptor {
        media_type: v
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        digest: v.get("digest")?.as_str()?.parse().ok()?,
        size: v.get("size").and_then(Value::as_u64).unwrap_or(0),
    })
}

fn is_index(media_type: &str, v: Option<&Value>) -> bool {
    media_type.ends_with("image.index.v1+json")
        || media_type.ends_with("manifest.list.v2+json")
        || v.is_some_and(|v| v.get("manifests").is_some())
}

/// `os/arch[/variant]` of an index entry's `platform`.
fn platform(v: &Value) -> String {
    let Some(p) = v.get("platform") else {
        return String::new();
    };
    let field = |k| p.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut s = format!("{}/{}", field("os"), field("architecture"));
    if !field("variant").is_empty() {
        s = format!("{s}/{}", field("variant"));
    }
    s
}

/// Resolves targets and classifies blobs.
pub struct Resolver<'a, F: Fn(&Digest) -> Option<&'a [u8]>> {
    /// The bytes of a packed blob.
    pub blob: F,
    /// `os/arch` of the host, which picks the manifest Docker uses.
    pub host_platform: String,
    pub kinds: BTreeMap<Digest, BlobKind>,
}

impl<'a, F: Fn(&Digest) -> Option<&'a [u8]>> Resolver<'a, F> {
    fn json(&self, d: &Digest) -> Option<Value> {
        serde_json::from_slice((self.blob)(d)?).ok()
    }

    fn mark(&mut self, d: &Digest, kind: BlobKind) {
        let k = self.kinds.entry(d.clone()).or_insert(kind);
        // A blob referred to two ways keeps the more structural kind (index before layer).
        *k = (*k).min(kind);
    }

    /// The target `desc` resolved to its manifests.
    pub fn resolve(&mut self, desc: &Descriptor) -> Target {
        let doc = self.json(&desc.digest);
        let mut target = Target {
            index: is_index(&desc.media_type, doc.as_ref()),
            ..Target::default()
        };
        if target.index {
            self.mark(&desc.digest, BlobKind::Index);
            self.index_entries(doc.as_ref(), &mut target.manifests, 0);
        } else {
            let m = self.manifest(&desc.digest, desc.size, String::new(), false);
            target.manifests.push(m);
        }
        target.chosen = self.choose(&target.manifests);
        target
    }

    fn index_entries(
        &mut self,
        doc: Option<&Value>,
        out: &mut Vec<PlatformManifest>,
        depth: usize,
    ) {
        let entries = doc
            .and_then(|d| d.get("manifests"))
            .and_then(Value::as_array);
        for e in entries.into_iter().flatten() {
            let Some(d) = descriptor(e) else { continue };
            if is_index(&d.media_type, None) {
                if depth < MAX_NESTING {
                    self.mark(&d.digest, BlobKind::Index);
                    let nested = self.json(&d.digest);
                    self.index_entries(nested.as_ref(), out, depth + 1);
                }
                continue;
            }
            let attestation = e
                .pointer("/annotations/vnd.docker.reference.type")
                .and_then(Value::as_str)
                == Some("attestation-manifest");
            let m = self.manifest(&d.digest, d.size, platform(e), attestation);
            out.push(m);
        }
    }

    fn manifest(
        &mut self,
        digest: &Digest,
        size: u64,
        platform: String,
        attestation: bool,
    ) -> PlatformManifest {
        self.mark(digest, BlobKind::Manifest);
        let doc = self.json(digest);
        let config = doc
            .as_ref()
            .and_then(|d| d.get("config"))
            .and_then(descriptor);
        if let Some(c) = &config {
            self.mark(&c.digest, BlobKind::Config);
        }
        let layers: Vec<Descriptor> = doc
            .as_ref()
            .and_then(|d| d.get("layers"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(descriptor).collect())
            .unwrap_or_default();
        for l in &layers {
            self.mark(&l.digest, BlobKind::Layer);
        }
        PlatformManifest {
            digest: digest.clone(),
            size,
            platform,
            attestation,
            config,
            layers,
        }
    }

    /// The manifest Docker uses: the first runnable one for this host whose manifest is
    /// present, else the first runnable one present.
    fn choose(&self, manifests: &[PlatformManifest]) -> Option<usize> {
        let present = |m: &PlatformManifest| (self.blob)(&m.digest).is_some();
        let runnable = |m: &PlatformManifest| !m.attestation && present(m);
        manifests
            .iter()
            .position(|m| {
                runnable(m)
                    && (m.platform.is_empty() || m.platform.starts_with(&self.host_platform))
            })
            .or_else(|| manifests.iter().position(runnable))
    }
}
