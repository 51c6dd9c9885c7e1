//! The `qscale` binary end to end: validate, decide, explain.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `shared/`, the parent of this crate.
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn qscale(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qscale"))
        .args(args)
        // Paths in these tests are relative to `shared/`, where `configs/` is.
        .current_dir(SHARED)
        .output()
        .expect("run qscale")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qscale-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

const DECIDE: &[&str] = &[
    "decide",
    "--config",
    "configs/example.yaml",
    "--target",
    "orders",
    "--observations",
    "configs/example-observations.json",
    "--now",
    "2026-11-23T10:00:30Z",
];

#[test]
fn validate_accepts_the_example() {
    let o = qscale(&["validate", "configs/example.yaml"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("ok, 2 target(s)"));
}

#[test]
fn validate_lists_every_error_and_exits_1() {
    let example = std::fs::read_to_string(format!("{SHARED}/configs/example.yaml")).unwrap();
    let broken = example
        .replace("cooldown: 5m", "cooldown: 5 minuts")
        .replace("max: 24", "max: 24\n      maxx: 3");
    let path = tmp("broken.yaml", &broken);
    let o = qscale(&["validate", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("targets[0].policy.scale_in.cooldown: \"5 minuts\" is not a duration"),
        "{out}"
    );
    assert!(
        out.contains("targets[1].policy.maxx: unknown field `maxx`"),
        "{out}"
    );
    assert!(out.contains("2 error(s)"), "{out}");
}

#[test]
fn decide_prints_the_documented_json_contract() {
    let o = qscale(DECIDE);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["schema_version"], 1);
    assert_eq!(d["previous"], 10);
    assert_eq!(d["desired"], 15);
    assert_eq!(d["direction"], "scale_out");
    assert_eq!(d["signals"][0]["backlog"], 1500);
    assert_eq!(d["bounded_by"][0], "target_tracking");
    assert_eq!(d["next_state"]["actions"][0]["to"], 15);
}

#[test]
fn state_from_one_decision_feeds_the_next() {
    // Scale out to 15, then a drop in backlog 60s later stays put (5m scale-in window).
    let first: serde_json::Value = serde_json::from_slice(&qscale(DECIDE).stdout).unwrap();
    let state = tmp("state.json", &first["next_state"].to_string());
    let obs = std::fs::read_to_string(format!("{SHARED}/configs/example-observations.json"))
        .unwrap()
        .replace(
            "\"desired\": 10, \"running\": 10",
            "\"desired\": 15, \"running\": 15",
        )
        .replace("1400", "100")
        .replace("10:00:00Z", "10:01:20Z");
    let obs = tmp("obs2.json", &obs);
    let o = qscale(&[
        "explain",
        "--config",
        "configs/example.yaml",
        "--target",
        "orders",
        "--observations",
        obs.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--now",
        "2026-11-23T10:01:30Z",
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("* scale_in_stabilization"), "{out}");
    assert!(out.contains("result: orders: stay at 15"), "{out}");
}

#[test]
fn bad_inputs_name_the_field() {
    let obs = tmp(
        "typo.json",
        r#"{"worker":{"desired":1,"running":1},"signals":{"orders-q":{"status":"failed","error":"x"}}}"#,
    );
    let mut args = DECIDE.to_vec();
    args[6] = obs.to_str().unwrap();
    let o = qscale(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("signals.orders-q: \"orders-q\" is not a signal of target \"orders\""),
        "{err}"
    );

    let obs = tmp("type.json", r#"{"worker":{"desired":"ten","running":1}}"#);
    args[6] = obs.to_str().unwrap();
    let err = String::from_utf8_lossy(&qscale(&args).stderr).into_owned();
    assert!(
        err.contains("worker.desired: invalid type: string \"ten\""),
        "{err}"
    );

    let mut args = DECIDE.to_vec();
    args[4] = "nope";
    let err = String::from_utf8_lossy(&qscale(&args).stderr).into_owned();
    assert!(err.contains("no target named \"nope\""), "{err}");
}

#[test]
fn a_trace_file_in_a_folder_names_its_outputs_by_its_stem() {
    let trace = tmp("in/a folder/spiky.csv", "");
    std::fs::write(&trace, "t_seconds,rate\n0,5\n600,5\n").unwrap();
    let out = trace.parent().unwrap().join("out");
    let o = qscale(&[
        "simulate",
        "--trace",
        trace.to_str().unwrap(),
        "--policy",
        "static-peak,oracle",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("spiky.svg").is_file(), "{}", stdout(&o));
    assert!(stdout(&o).contains("\nspiky "), "{}", stdout(&o));
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(csv.contains("\nspiky,oracle,"), "{csv}");
}

#[test]
fn sweep_writes_each_baselines_points_frontiers_and_a_scatter() {
    let trace = tmp("sweep/burst.csv", "");
    std::fs::write(
        &trace,
        "t_seconds,rate\n0,5\n300,5\n301,60\n600,60\n601,5\n900,5\n",
    )
    .unwrap();
    let out = trace.parent().unwrap().join("out");
    let o = qscale(&[
        "simulate",
        "--trace",
        trace.to_str().unwrap(),
        "--sweep",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = stdout(&o);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        text.contains("keda-hpa frontier     queueLength="),
        "{text}"
    );
    assert!(text.contains("\nsweep burst: "), "{text}");
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    // qscale, the oracle, 10 KEDA, 10 AWS and 4 static settings.
    assert_eq!(csv.lines().count(), 1 + 2 + 10 + 10 + 4, "{csv}");
    assert!(csv.contains("burst,keda-hpa,queueLength=5,"), "{csv}");
    assert!(csv.contains(",true,"), "some point is on a frontier: {csv}");
    let svg = std::fs::read_to_string(out.join("burst-pareto.svg")).unwrap();
    assert!(svg.contains("worker-hours") && svg.contains("SLO-violation seconds"));

    let o = qscale(&[
        "simulate",
        "--trace",
        trace.to_str().unwrap(),
        "--policy",
        "keda-hpa",
        "--sweep",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("include qscale in --policy"));
}

#[test]
fn a_simulations_audit_rebuilds_its_trace_and_simulates_again() {
    // simulate (audit out) -> trace from-audit -> simulate --trace: the
    // backtest-your-own-traffic path, on a trace whose truth is known.
    let dir = tmp("from-audit/x", "").parent().unwrap().to_path_buf();
    let audit = dir.join("audit.jsonl");
    let o = qscale(&[
        "simulate",
        "--trace",
        "flash_crowd",
        "--policy",
        "qscale",
        "--audit-out",
        audit.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let events = std::fs::read_to_string(&audit).unwrap();
    assert!(events.lines().count() >= 10, "{events}");
    assert!(
        events.contains("\"arrivals\":{\"first_minute\":"),
        "{events}"
    );

    let csv = dir.join("derived.csv");
    let o = qscale(&[
        "trace",
        "from-audit",
        audit.to_str().unwrap(),
        "--target",
        "demo-sqs",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.starts_with("# start 2026-11-24T00:00:00Z\nt_seconds,rate\n"),
        "{text}"
    );
    // The flash crowd's peak (200/s for a minute, then decaying) shows in its minutes.
    let peak = text
        .lines()
        .skip(2)
        .filter_map(|l| l.split_once(',')?.1.parse::<f64>().ok())
        .fold(0.0, f64::max);
    assert!((150.0..=260.0).contains(&peak), "peak {peak}\n{text}");

    let o = qscale(&[
        "simulate",
        "--trace",
        csv.to_str().unwrap(),
        "--target",
        "demo-sqs",
        "--policy",
        "qscale,oracle",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("\nderived "), "{}", stdout(&o));

    // A target with no events is named, exit 1.
    let o = qscale(&[
        "trace",
        "from-audit",
        audit.to_str().unwrap(),
        "--target",
        "nope",
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("target \"nope\": no arrival rates"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn schema_prints_the_configs_json_schema() {
    let o = qscale(&["schema"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let schema: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(schema["title"], "qscale config");
    assert_eq!(schema["required"], serde_json::json!(["targets"]));
    assert_eq!(
        schema["$defs"]["TargetConfig"]["additionalProperties"], false,
        "unknown target fields are flagged"
    );
}
