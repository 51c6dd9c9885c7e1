//! `index.html`: one self-contained page per report: the table, the verdict
//! lines, every figure inline (SVG), the config and the seed. No network
//! needed to view it. Written as well-formed XHTML so a plain XML parser can
//! check it (`tests.rs`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::report::x_oracle;
use super::run::RunResult;

/// What one report page shows.
pub struct IndexPage<'a> {
    /// Page title, e.g. `qscale backtest`.
    pub title: &'a str,
    /// The command that produced it, for reproducing.
    pub command: &'a str,
    /// The seed of all randomness.
    pub seed: u64,
    /// The config used, as YAML.
    pub config_yaml: &'a str,
    /// The results table.
    pub results: &'a [RunResult],
    /// Verdict lines (may be empty).
    pub verdicts: &'a [String],
    /// SVG files to inline, in order.
    pub figures: &'a [PathBuf],
}

/// Escapes text for HTML and XML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn table(results: &[RunResult]) -> String {
    let mut out = String::from("<table>\n<thead><tr>");
    for h in [
        "trace",
        "policy",
        "worker-hours",
        "× oracle",
        "utilization (%)",
        "wait p50 (s)",
        "wait p99 (s)",
        "wait max (s)",
        "SLO violation (s)",
        "actions",
        "flaps",
        "peak backlog (messages)",
    ] {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in results {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.trace),
            esc(&r.policy),
            r.worker_seconds / 3600.0,
            x_oracle(results, r).map_or("-".into(), |x| format!("{x:.2}")),
            r.utilization * 100.0,
            r.wait_p50_s,
            r.wait_p99_s,
            r.wait_max_s,
            r.slo_violation_s,
            r.actions,
            r.flaps,
            r.peak_backlog
        );
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// The page as text; figures are read from their files.
pub fn render(page: &IndexPage) -> Result<String, String> {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>{title}</title>\n<style>\nbody {{ font-family: sans-serif; margin: 2em; }}\ntable {{ border-collapse: collapse; font-size: 13px; }}\nth, td {{ border: 1px solid #ccc; padding: 3px 6px; text-align: right; }}\ntd:first-child, td:nth-child(2) {{ text-align: left; }}\npre {{ background: #f6f6f6; padding: 1em; }}\nfigure {{ margin: 1em 0; }}\n</style>\n</head>\n<body>\n<h1>{title}</h1>\n<p>Command: <code>{command}</code>; seed <span id=\"seed\">{seed}</span>.</p>\n",
        title = esc(page.title),
        command = esc(page.command),
        seed = page.seed
    );
    out.push_str("<h2>Results</h2>\n");
    out.push_str(&table(page.results));
    if !page.verdicts.is_empty() {
        out.push_str("<h2>Verdicts</h2>\n<ul>\n");
        for v in page.verdicts {
            let _ = writeln!(out, "<li>{}</li>", esc(v));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h2>Figures</h2>\n");
    for path in page.figures {
        let svg = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        // Drop the XML declaration: it may only start a document.
        let svg = match svg.find("<svg") {
            Some(i) => &svg[i..],
            None => return Err(format!("{} holds no <svg>", path.display())),
        };
        let name = path
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let _ = writeln!(
            out,
            "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>",
            esc(&name)
        );
    }
    let _ = write!(
        out,
        "<h2>Config</h2>\n<pre id=\"config\">{}</pre>\n</body>\n</html>\n",
        esc(page.config_yaml)
    );
    Ok(out)
}

/// Writes `index.html` into `dir`.
pub fn write_index(dir: &Path, page: &IndexPage) -> Result<PathBuf, String> {
    let path = dir.join("index.html");
    std::fs::write(&path, render(page)?).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{compare, report, SimSpec, DEMO_CONFIG};
    use qscale_core::config::Config;

    #[test]
    fn the_page_holds_the_table_every_figure_the_config_and_the_seed() {
        let config = Config::from_yaml(DEMO_CONFIG).unwrap();
        let (mut spec, target) = SimSpec::bundled("flash_crowd").unwrap();
        spec.seed = 7;
        let policies = ["qscale".to_string(), "oracle".to_string()];
        let results = compare(&spec, &config, config.target(target).unwrap(), &policies).unwrap();
        let dir = std::env::temp_dir().join(format!("qscale-html-{}", std::process::id()));
        let written = report::write(&dir, &results).unwrap();
        let figures: Vec<PathBuf> = written
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "svg"))
            .collect();
        let verdicts = vec!["flash_crowd: a verdict <with> markup & all".to_string()];
        let page = IndexPage {
            title: "qscale simulate",
            command: "qscale simulate --trace flash_crowd",
            seed: 7,
            config_yaml: DEMO_CONFIG,
            results: &results,
            verdicts: &verdicts,
            figures: &figures,
        };
        let path = write_index(&dir, &page).unwrap();
        let html = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();

        // Well-formed from start to end, and what it holds.
        let (mut rows, mut svgs, mut stack) = (0, 0, Vec::new());
        let (mut config_text, mut seed_text) = (String::new(), String::new());
        for token in xmlparser::Tokenizer::from(html.as_str()) {
            match token.unwrap_or_else(|e| panic!("index.html is not well-formed: {e}")) {
                xmlparser::Token::ElementStart { local, .. } => {
                    rows += usize::from(local.as_str() == "tr");
                    svgs += usize::from(local.as_str() == "svg");
                    stack.push(local.to_string());
                }
                xmlparser::Token::Attribute { local, value, .. } if local.as_str() == "id" => {
                    stack.push(format!("#{}", value.as_str()));
                }
                xmlparser::Token::Text { text } => match stack.last().map(String::as_str) {
                    Some("#config") => config_text.push_str(text.as_str()),
                    Some("#seed") => seed_text.push_str(text.as_str()),
                    _ => {}
                },
                xmlparser::Token::ElementEnd { end, .. }
                    if !matches!(end, xmlparser::ElementEnd::Open) =>
                {
                    while stack.pop().is_some_and(|t| t.starts_with('#')) {}
                }
                _ => {}
            }
        }
        assert_eq!(
            rows,
            results.len() + 1,
            "a header row and one row per result"
        );
        assert_eq!(svgs, figures.len());
        assert!(!figures.is_empty());
        assert_eq!(seed_text, "7");
        assert!(config_text.contains("targets:"), "{config_text}");
        assert!(html.contains("a verdict &lt;with&gt; markup &amp; all"));
    }
}
