//! Every `yaml` block of the README and of docs/ is a config a reader will
//! copy: each must load, so an example that drifts from the schema fails here.

use crate::config::Config;

const PAGES: &[(&str, &str)] = &[
    ("README.md", include_str!("../../../../../README.md")),
    (
        "docs/config.md",
        include_str!("../../../../../docs/config.md"),
    ),
    (
        "docs/deploy.md",
        include_str!("../../../../../docs/deploy.md"),
    ),
    (
        "docs/decisions.md",
        include_str!("../../../../../docs/decisions.md"),
    ),
    (
        "docs/simulator.md",
        include_str!("../../../../../docs/simulator.md"),
    ),
];

/// The fenced blocks opened with ```` ```yaml ```` in `page`.
fn yaml_blocks(page: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```yaml") => current = Some(String::new()),
            (Some(_), l) if l.starts_with("```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// (page, block) for every `yaml` block of the pages.
pub(super) fn documented_yaml_blocks() -> Vec<(&'static str, String)> {
    PAGES
        .iter()
        .flat_map(|(page, text)| yaml_blocks(text).into_iter().map(move |b| (*page, b)))
        .collect()
}

#[test]
fn every_documented_config_loads() {
    let mut checked = 0;
    for (page, text) in PAGES {
        for (i, block) in yaml_blocks(text).iter().enumerate() {
            if let Err(e) = Config::from_yaml(block) {
                panic!("{page}, yaml block {i}: {e}\n{block}");
            }
            checked += 1;
        }
    }
    // The README's minimal config and the config page's overview at least.
    assert!(checked >= 2, "only {checked} yaml blocks found");
}

#[test]
fn a_broken_block_is_caught() {
    let page = "text\n```yaml\ntargets:\n  - name: a\n    polcy: {}\n```\n";
    let blocks = yaml_blocks(page);
    assert_eq!(blocks.len(), 1);
    assert!(Config::from_yaml(&blocks[0]).is_err());
}
