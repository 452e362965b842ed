//! The files of the selected layer or image, from tar-splits (or an archive's tars): a
//! collapsible tree with sizes, each path marked as dive marks it (added, modified, removed).
//! Only the rows in view are drawn, so a layer of 100,000 files scrolls as one of ten.

use std::collections::BTreeSet;
use std::rc::Rc;

use storesnap_core::docker::human_size;
use storesnap_core::files::tree::{image_items, layer_items, window, Row, Tree};
use storesnap_core::files::{stack, ChangeKind, FileKind};
use storesnap_core::ChainId;
use web_sys::Element;
use yew::prelude::*;

use crate::files::FilesData;
use crate::state::{Loaded, Selection};

#[derive(Properties, PartialEq)]
pub struct FileTreeProps {
    pub loaded: Rc<Loaded>,
    pub files: Option<Rc<FilesData>>,
    pub selection: Selection,
}

/// Pixels per row (the stylesheet's `.file-row` height) and of the scroll box.
const ROW: f64 = 20.0;
const BOX: f64 = 320.0;

/// The tree a selection shows, with a caption; `Err` says why there is none.
fn tree_of(
    loaded: &Loaded,
    files: &FilesData,
    selection: &Selection,
    only_changes: bool,
) -> Result<(Tree, String), String> {
    let store = &loaded.store;
    match selection {
        Selection::Layer(chain) => {
            // The layer and those below it, base first: its changes are relative to them.
            let mut chain_ids: Vec<ChainId> = vec![chain.clone()];
            while let Some(parent) = store
                .layers
                .get(chain_ids.last().unwrap_or(chain))
                .and_then(|l| l.parent.clone())
            {
                if chain_ids.len() > store.layers.len() {
                    break;
                }
                chain_ids.push(parent);
            }
            chain_ids.reverse();
            let layers = files.chain(store, &chain_ids)?;
            let stacked = stack(&layers);
            let index = layers.len() - 1;
            let items = layer_items(&stacked, &layers[index], index);
            let changes = &stacked.layers[index];
            let caption = format!(
                "layer {} of its chain: {} added, {} modified, {} removed",
                index + 1,
                changes.count(ChangeKind::Added),
                changes.count(ChangeKind::Modified) + changes.count(ChangeKind::Same),
                changes.count(ChangeKind::Removed),
            );
            Ok((Tree::new(items), caption))
        }
        Selection::Image(id) => {
            let image = store.images.get(id).ok_or("the image is missing")?;
            let layers = files.chain(store, image.chain())?;
            let stacked = stack(&layers);
            let items = image_items(&stacked, only_changes);
            let caption = format!(
                "{} paths{}",
                items.len(),
                if only_changes {
                    " changed above the base layer"
                } else {
                    " in the merged tree"
                }
            );
            Ok((Tree::new(items), caption))
        }
        _ => Err(String::new()),
    }
}

#[function_component(FileTree)]
pub fn file_tree(props: &FileTreeProps) -> Html {
    let collapsed = use_state(BTreeSet::<String>::new);
    let only_changes = use_state(|| false);
    let scroll = use_state(|| 0.0f64);
    let box_ref = use_node_ref();
    // Built once per selection: collapsing and scrolling only walk it.
    let built = use_memo(
        (props.files.clone(), props.selection.clone(), *only_changes),
        {
            let loaded = props.loaded.clone();
            move |(files, selection, only): &(Option<Rc<FilesData>>, Selection, bool)| {
                files
                    .as_ref()
                    .map(|f| tree_of(&loaded, f, selection, *only))
            }
        },
    );
    // Walked again only when a directory folds or opens: a scroll only slices it.
    let rows = use_memo(
        (
            props.files.clone(),
            props.selection.clone(),
            *only_changes,
            (*collapsed).clone(),
        ),
        {
            let built = built.clone();
            move |(_, _, _, collapsed): &(
                Option<Rc<FilesData>>,
                Selection,
                bool,
                BTreeSet<String>,
            )| match built.as_ref() {
                Some(Ok((tree, _))) => tree.rows(collapsed),
                _ => Vec::new(),
            }
        },
    );
    {
        // A new selection starts at the top, everything open.
        let (collapsed, scroll, box_ref) = (collapsed.clone(), scroll.clone(), box_ref.clone());
        use_effect_with(props.selection.clone(), move |_| {
            collapsed.set(BTreeSet::new());
            scroll.set(0.0);
            if let Some(el) = box_ref.cast::<Element>() {
                el.set_scroll_top(0);
            }
        });
    }
    if !matches!(props.selection, Selection::Layer(_) | Selection::Image(_)) {
        return html! {};
    }
    let body = match built.as_ref() {
        None => html! { <p class="muted">{ "Reading the layers' file lists…" }</p> },
        Some(Err(why)) => {
            html! { <p class="muted" id="file-tree-missing">{ format!("No file list: {why}.") }</p> }
        }
        Some(Ok((tree, caption))) => {
            let range = window(*scroll, BOX, ROW, rows.len(), 10);
            let onscroll = {
                let scroll = scroll.clone();
                Callback::from(move |e: Event| {
                    let el: Element = e.target_unchecked_into();
                    scroll.set(f64::from(el.scroll_top()));
                })
            };
            let toggle = |path: String| {
                let collapsed = collapsed.clone();
                Callback::from(move |_: MouseEvent| {
                    let mut next = (*collapsed).clone();
                    if !next.remove(&path) {
                        next.insert(path.clone());
                    }
                    collapsed.set(next);
                })
            };
            let drawn = rows[range.clone()]
                .iter()
                .map(|r| row(r, collapsed.contains(&r.path), toggle(r.path.clone())));
            html! {
                <>
                    <p class="muted" id="file-tree-caption">{ format!("{caption}, {}", human_size(tree.size() as i64)) }</p>
                    <div class="file-box" ref={box_ref.clone()} {onscroll} data-rows={rows.len().to_string()}
                        style={format!("height:{BOX}px;overflow:auto")}>
                        <div style={format!("height:{}px;position:relative", rows.len() as f64 * ROW)}>
                            <div style={format!("position:absolute;top:{}px;left:0;right:0", range.start as f64 * ROW)}>
                                { for drawn }
                            </div>
                        </div>
                    </div>
                </>
            }
        }
    };
    let on_only = {
        let only_changes = only_changes.clone();
        Callback::from(move |_: Event| only_changes.set(!*only_changes))
    };
    html! {
        <section class="file-tree" id="file-tree">
            <h4>{ "Files" }</h4>
            if matches!(props.selection, Selection::Image(_)) {
                <label class="toggle">
                    <input type="checkbox" id="only-changes" checked={*only_changes} onchange={on_only} />
                    { " only what the layers above the base changed" }
                </label>
            }
            { body }
        </section>
    }
}

fn row(r: &Row, collapsed: bool, toggle: Callback<MouseEvent>) -> Html {
    let mark = r.mark.map(|m| m.as_str());
    let sign = match r.mark {
        Some(ChangeKind::Added) => "+",
        Some(ChangeKind::Modified) => "~",
        Some(ChangeKind::Same) => "=",
        Some(ChangeKind::Removed) => "−",
        None => " ",
    };
    let dir = r.kind == FileKind::Dir && r.children > 0;
    let name = match &r.link {
        Some(target) => format!("{} → {target}", r.name),
        None => r.name.clone(),
    };
    html! {
        <div class={classes!("file-row", mark)} data-file-path={r.path.clone()} data-change={mark}
            style={format!("padding-left:{}px", 6 + r.depth * 14)}>
            <span class="sign">{ sign }</span>
            if dir {
                <button class="fold-dir" aria-expanded={(!collapsed).to_string()} onclick={toggle}>
                    { if collapsed { "▸" } else { "▾" } }
                </button>
            }
            <span class="name">{ name }</span>
            <span class="size">{ human_size(r.size as i64) }</span>
            if let Some(l) = r.layer {
                <span class="layer muted">{ format!("L{}", l + 1) }</span>
            }
        </div>
    }
}
