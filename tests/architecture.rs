//! The crate graph is the architecture picture: the functional core and the
//! simulator must never reach an SDK, a Kafka client, the Lambda runtime or an
//! async runtime. Read from `cargo metadata`, so a new dependency anywhere in
//! their (normal or build) closure fails this test.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Package-name prefixes the pure crates must not depend on, even indirectly.
const CLOUD_PREFIXES: &[&str] = &["aws-", "aws_", "rdkafka", "lambda_runtime", "tokio"];

/// The workspace's resolved dependency graph: package name -> names of its
/// normal and build dependencies (dev-dependencies do not ship).
fn dependency_graph() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut graph = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].as_str() != Some("dev"))
            })
            .map(|d| names[d["pkg"].as_str().unwrap()].to_string())
            .collect();
        graph.insert(names[node["id"].as_str().unwrap()].to_string(), deps);
    }
    graph
}

/// Every package `root` needs to build, itself excluded.
fn closure(graph: &BTreeMap<String, BTreeSet<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = vec![root];
    while let Some(p) = todo.pop() {
        for d in graph
            .get(p)
            .unwrap_or_else(|| panic!("{p} not in the graph"))
        {
            if seen.insert(d.clone()) {
                todo.push(d);
            }
        }
    }
    seen
}

fn cloud_deps(deps: &BTreeSet<String>) -> Vec<&String> {
    deps.iter()
        .filter(|d| CLOUD_PREFIXES.iter().any(|p| d.starts_with(p)))
        .collect()
}

#[test]
fn core_and_sim_reach_no_sdk_kafka_or_async_runtime() {
    let graph = dependency_graph();
    for pure in ["qscale-core", "qscale-sim"] {
        let deps = closure(&graph, pure);
        assert!(
            cloud_deps(&deps).is_empty(),
            "{pure} must not depend on {:?}",
            cloud_deps(&deps)
        );
    }
    // The check sees what it is looking for: the adapters do reach them.
    assert!(closure(&graph, "qscale-aws").contains("aws-sdk-sqs"));
    assert!(closure(&graph, "qscale-kafka").contains("rdkafka"));
}

#[test]
fn layers_depend_only_downward() {
    let graph = dependency_graph();
    let ours = |p: &str| -> BTreeSet<String> {
        closure(&graph, p)
            .into_iter()
            .filter(|d| d.starts_with("qscale"))
            .collect()
    };
    let set =
        |names: &[&str]| -> BTreeSet<String> { names.iter().map(|s| s.to_string()).collect() };
    assert_eq!(ours("qscale-core"), set(&[]));
    assert_eq!(ours("qscale-sim"), set(&["qscale-core"]));
    assert_eq!(ours("qscale-aws"), set(&["qscale-core"]));
    assert_eq!(ours("qscale-kafka"), set(&["qscale-core"]));
    assert_eq!(
        ours("qscale-live"),
        set(&["qscale-core", "qscale-aws", "qscale-kafka"])
    );
    assert_eq!(
        ours("qscale-lambda"),
        set(&["qscale-core", "qscale-aws", "qscale-kafka", "qscale-live"])
    );
    // The CLI runs the same operations as the Lambdas without their crate:
    // each operation has its home below both (registration in the core,
    // environment names in qscale-live).
    assert_eq!(
        ours("qscale"),
        set(&[
            "qscale-core",
            "qscale-sim",
            "qscale-aws",
            "qscale-kafka",
            "qscale-live"
        ])
    );
}
