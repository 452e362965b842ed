//! `docker history`.

use super::*;
use serde::Serialize;

use crate::store::{Image, Store};

impl Store {
    /// The rows of `docker history IMAGE`, newest first.
    pub fn history_rows(
        &self,
        image: &Image,
        opts: HistoryOptions,
        clock: &Clock<'_>,
    ) -> Vec<HistoryRow> {
        let Some(config) = &image.config else {
            return Vec::new();
        };
        let chain = image.chain();
        let generation = self.generation();
        let mut rows: Vec<HistoryRow> = config
            .history
            .iter()
            .map(|h| {
                let size = match h.layer {
                    Some(i) => chain
                        .get(i)
                        .and_then(|c| self.layers.get(c)?.size)
                        .unwrap_or(0) as i64,
                    None => 0,
                };
                let created = h.created_unix.unwrap_or(generation.missing_time());
                let created_by = h.created_by.replace('\t', " ");
                HistoryRow {
                    comment: h.comment.clone(),
                    created_at: clock.rfc3339(created),
                    created_by: if opts.no_trunc {
                        created_by
                    } else {
                        ellipsis(&created_by, 45)
                    },
                    created_since: if opts.human {
                        // CLI v23: dates before 2000 are not real build times.
                        if generation >= Generation::Docker26 && created <= Y2K {
                            "N/A".into()
                        } else {
                            clock.since(created)
                        }
                    } else {
                        clock.rfc3339(created)
                    },
                    id: "<missing>".into(),
                    size: if opts.human {
                        human_size_with_precision(size as f64, 3)
                    } else {
                        size.to_string()
                    },
                }
            })
            .collect();
        rows.reverse();
        // The newest row is the image; each older row the parent of the one above, while known.
        let mut current = Some(image);
        for row in rows.iter_mut() {
            let Some(img) = current else { break };
            row.id = if opts.no_trunc {
                img.id.to_string()
            } else {
                img.id.short().to_owned()
            };
            current = img.parent.as_ref().and_then(|p| self.images.get(p));
        }
        rows
    }
}

/// 2000-01-01T00:00:00Z.
const Y2K: i64 = 946_684_800;

/// `docker history` flags.
#[derive(Debug, Clone, Copy)]
pub struct HistoryOptions {
    pub no_trunc: bool,
    /// `-H`: human sizes and relative times (the default).
    pub human: bool,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            no_trunc: false,
            human: true,
        }
    }
}

/// A row of `docker history --format '{{json .}}'`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryRow {
    pub comment: String,
    pub created_at: String,
    pub created_by: String,
    pub created_since: String,
    #[serde(rename = "ID")]
    pub id: String,
    pub size: String,
}
