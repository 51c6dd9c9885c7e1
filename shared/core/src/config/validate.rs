//! Semantic checks that serde cannot express, each naming its field and value.

use std::collections::BTreeSet;

use super::direction::RateLimitPolicy;
use super::error::FieldError;
use super::policy::{Fallback, PolicyConfig};
use super::signal::SignalConfig;
use super::target::{
    Config, KafkaClusterConfig, MskIamAuth, SecretSource, TargetConfig, KAFKA_PROPERTIES,
};
use super::worker::{WorkerConfig, WARM_QUALIFIER_REASON};

/// Every semantic problem in a parsed config.
pub(super) fn validate(config: &Config) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut push = |path: String, message: String| errors.push(FieldError { path, message });

    let tick = config.tick_interval.0;
    if tick.is_zero() {
        push("tick_interval".into(), "must be greater than 0s".into());
    } else if tick < std::time::Duration::from_secs(60) {
        // Sub-minute ticks run inside the once-a-minute scheduled invocation,
        // so they must split the minute evenly; below 5 s they would only
        // multiply API calls faster than any worker starts.
        let ms = tick.as_millis();
        if ms < 5_000 || 60_000 % ms != 0 {
            push(
                "tick_interval".into(),
                format!(
                    "{} is below 60s: it must be at least 5s and divide 60s evenly (5s, 6s, 10s, 12s, 15s, 20s or 30s)",
                    config.tick_interval
                ),
            );
        }
    }
    for (name, cluster) in &config.kafka_clusters {
        if cluster.bootstrap_servers.trim().is_empty() {
            push(
                format!("kafka_clusters.{name}.bootstrap_servers"),
                "must not be empty".into(),
            );
        }
        let field = |f: &str| format!("kafka_clusters.{name}.{f}");
        if cluster.properties.contains_key("sasl.password") {
            if cluster.sasl_password_from.is_some() {
                push(
                    field("sasl_password_from"),
                    "and properties.sasl.password are both set: keep one".into(),
                );
            } else if !cluster.allow_plain_password {
                push(
                    field("properties.sasl.password"),
                    "a password in the config is refused (the config is stored and shown in clear): use sasl_password_from: { ssm_parameter: NAME } (a SecureString), or set allow_plain_password: true for a local broker".into(),
                );
            }
        }
        if let Some(SecretSource::SsmParameter(p)) = &cluster.sasl_password_from {
            let plausible = !p.is_empty()
                && p.len() <= 2048
                && !p.chars().any(char::is_whitespace)
                && (p.starts_with("arn:") || !p.contains(':'));
            if !plausible {
                push(
                    field("sasl_password_from.ssm_parameter"),
                    format!("{p:?} is not an SSM parameter name or ARN"),
                );
            }
        }
        if let Some(msk) = &cluster.msk_iam {
            validate_msk_iam(msk, cluster, &field, &mut push);
        }
        for key in cluster.properties.keys() {
            if !KAFKA_PROPERTIES.contains(&key.as_str()) {
                push(
                    format!("kafka_clusters.{name}.properties.{key}"),
                    "is not a property qscale passes to librdkafka (security, SASL, TLS and client timeouts only; see docs/config.md)".into(),
                );
            }
        }
    }
    if let Some(a) = &config.audit_kafka {
        if !config.kafka_clusters.contains_key(&a.cluster) {
            push(
                "audit_kafka.cluster".into(),
                format!("{:?} is not defined under kafka_clusters", a.cluster),
            );
        }
        if a.topic.trim().is_empty() {
            push("audit_kafka.topic".into(), "must not be empty".into());
        }
    }
    let mut names = BTreeSet::new();
    for (i, target) in config.targets.iter().enumerate() {
        let at = format!("targets[{i}]");
        if target.name.trim().is_empty() {
            push(format!("{at}.name"), "must not be empty".into());
        } else if !names.insert(target.name.as_str()) {
            push(
                format!("{at}.name"),
                format!("{:?} is used by another target", target.name),
            );
        }
        validate_target(config, target, &at, &mut push);
    }
    // Two targets on one resource would each keep their own state and fight.
    let mut workers = std::collections::BTreeMap::new();
    for (i, target) in config.targets.iter().enumerate() {
        // One name in two accounts or regions is two resources.
        let identity = match target.aws.as_ref().map(|a| a.describe()) {
            Some(place) => format!("{} ({place})", target.worker.identity()),
            None => target.worker.identity(),
        };
        // A target written twice under one name is the name's error alone.
        if let Some(first) = workers
            .insert(identity.clone(), target.name.as_str())
            .filter(|first| *first != target.name)
        {
            push(
                format!("targets[{i}].worker"),
                format!(
                    "{identity} is already scaled by target {first:?}; one resource, one target"
                ),
            );
            workers.insert(identity, first);
        }
    }
    errors
}

/// Every check of one target, in the order its errors are listed: the
/// policy, the signals, the worker, the schedules.
fn validate_target(
    config: &Config,
    t: &TargetConfig,
    at: &str,
    push: &mut impl FnMut(String, String),
) {
    validate_policy(&t.policy, at, push);
    validate_signals(config, t, at, push);
    validate_worker(t, at, push);
    validate_schedules(t, at, push);
    for (field, message) in t.aws.iter().flat_map(|a| a.problems()) {
        let path = if field.is_empty() {
            format!("{at}.aws")
        } else {
            format!("{at}.aws.{field}")
        };
        push(path, message);
    }
}

fn validate_policy(p: &PolicyConfig, at: &str, push: &mut impl FnMut(String, String)) {
    if p.max == 0 {
        push(
            format!("{at}.policy.max"),
            "0 leaves no worker ever; must be at least 1".into(),
        );
    }
    if p.min > p.max {
        push(
            format!("{at}.policy.min"),
            format!("{} is above policy.max {}", p.min, p.max),
        );
    }
    match (p.target_per_worker, &p.latency) {
        (Some(_), Some(_)) => push(
            format!("{at}.policy"),
            "set target_per_worker or latency, not both".into(),
        ),
        (None, None) => push(
            format!("{at}.policy"),
            "one of target_per_worker or latency is required".into(),
        ),
        (Some(v), None) if !(v.is_finite() && v > 0.0) => push(
            format!("{at}.policy.target_per_worker"),
            format!("{v} must be a number above 0"),
        ),
        (None, Some(l)) => {
            if l.acceptable.0.is_zero() {
                push(
                    format!("{at}.policy.latency.acceptable"),
                    "must be above 0s".into(),
                );
            }
            if l.processing_time_per_message.0.is_zero() {
                push(
                    format!("{at}.policy.latency.processing_time_per_message"),
                    "must be above 0s".into(),
                );
            }
        }
        _ => {}
    }
    if let Some(slo) = &p.slo {
        if slo.wait.0.is_zero() {
            push(format!("{at}.policy.slo.wait"), "must be above 0s".into());
        }
        if !(slo.percentile > 0.0 && slo.percentile < 100.0) {
            push(
                format!("{at}.policy.slo.percentile"),
                format!("{} must be above 0 and below 100", slo.percentile),
            );
        }
        match p.processing_time_s() {
            None => push(
                format!("{at}.policy.slo"),
                "needs a processing time: set slo.processing_time or latency.processing_time_per_message".into(),
            ),
            Some(s) if s <= 0.0 => push(
                format!("{at}.policy.slo.processing_time"),
                "must be above 0s".into(),
            ),
            _ => {}
        }
    }
    if let Some(u) = p.target_utilization.filter(|u| !(*u > 0.0 && *u <= 1.0)) {
        push(
            format!("{at}.policy.target_utilization"),
            format!("{u} must be above 0 and at most 1"),
        );
    }
    if !(0.0..1.0).contains(&p.tolerance) {
        push(
            format!("{at}.policy.tolerance"),
            format!("{} must be at least 0 and below 1", p.tolerance),
        );
    }
    for (dir, d) in [("scale_out", &p.scale_out), ("scale_in", &p.scale_in)] {
        if let Some(t) = d.tolerance.filter(|t| !(0.0..1.0).contains(t)) {
            push(
                format!("{at}.policy.{dir}.tolerance"),
                format!("{t} must be at least 0 and below 1"),
            );
        }
        for (j, rl) in d.rate_limits.policies.iter().enumerate() {
            let path = format!("{at}.policy.{dir}.rate_limits.policies[{j}]");
            let (value, period) = match rl {
                RateLimitPolicy::Pods { value, period } => (*value, period),
                RateLimitPolicy::Percent { value, period } => (*value, period),
            };
            if value == 0 {
                push(format!("{path}.value"), "0 must be at least 1".into());
            }
            if period.0.is_zero() {
                push(format!("{path}.period"), "must be above 0s".into());
            }
        }
    }
    if let Fallback::Static(n) | Fallback::CurrentIfHigher(n) | Fallback::CurrentIfLower(n) =
        p.untrusted_data.fallback
    {
        if n > p.max {
            push(
                format!("{at}.policy.untrusted_data.fallback"),
                format!("{n} is above policy.max {}", p.max),
            );
        }
    }
    if p.untrusted_data.max_signal_age.0.is_zero() {
        push(
            format!("{at}.policy.untrusted_data.max_signal_age"),
            "must be above 0s".into(),
        );
    }
    if p.stuck_partition_observations == 0 {
        push(
            format!("{at}.policy.stuck_partition_observations"),
            "0 must be at least 1".into(),
        );
    }
}

fn validate_signals(
    config: &Config,
    t: &TargetConfig,
    at: &str,
    push: &mut impl FnMut(String, String),
) {
    if t.signals.is_empty() {
        push(
            format!("{at}.signals"),
            "at least one signal is required".into(),
        );
    }
    let mut signal_names = BTreeSet::new();
    for (j, s) in t.signals.iter().enumerate() {
        let path = format!("{at}.signals[{j}].{}", s.kind());
        if s.name().trim().is_empty() {
            push(format!("{path}.name"), "must not be empty".into());
        } else if !signal_names.insert(s.name()) {
            push(
                format!("{path}.name"),
                format!("{:?} is used by another signal of this target", s.name()),
            );
        }
        match s {
            SignalConfig::Sqs(q) => {
                if q.queue.trim().is_empty() {
                    push(format!("{path}.queue"), "must not be empty".into());
                }
                if q.in_flight_per_worker == 0 {
                    push(
                        format!("{path}.in_flight_per_worker"),
                        "0 must be at least 1".into(),
                    );
                }
                match q.max_active_groups {
                    Some(0) => push(
                        format!("{path}.max_active_groups"),
                        "0 must be at least 1".into(),
                    ),
                    // Message groups exist on FIFO queues only, whose names end in `.fifo`.
                    Some(_) if !q.queue.trim_end_matches('/').ends_with(".fifo") => push(
                        format!("{path}.max_active_groups"),
                        format!(
                            "is set but queue {:?} is not a FIFO queue (its name does not end in .fifo)",
                            q.queue
                        ),
                    ),
                    _ => {}
                }
            }
            SignalConfig::Kafka(k) => {
                if !config.kafka_clusters.contains_key(&k.cluster) {
                    push(
                        format!("{path}.cluster"),
                        format!("{:?} is not defined under kafka_clusters", k.cluster),
                    );
                }
                if k.group.trim().is_empty() {
                    push(format!("{path}.group"), "must not be empty".into());
                }
                validate_kafka_topics(k, &path, push);
                if k.max_partitions == Some(0) {
                    push(
                        format!("{path}.max_partitions"),
                        "0 must be at least 1".into(),
                    );
                }
            }
        }
    }
}

fn validate_worker(t: &TargetConfig, at: &str, push: &mut impl FnMut(String, String)) {
    if let Some((_, q)) = t.worker.provisioned_qualifier() {
        if q.is_empty() || q == "$LATEST" {
            push(
                format!("{at}.worker.lambda_concurrency.qualifier"),
                format!("{q:?} cannot take provisioned concurrency; name an alias or a published version"),
            );
        }
    }
    if !t.schedules.is_empty() && t.worker.lacks_warm_qualifier() {
        push(
            format!("{at}.worker.lambda_concurrency.qualifier"),
            format!("required with schedules: {}", WARM_QUALIFIER_REASON),
        );
    }
    if let WorkerConfig::Ecs(e) = &t.worker {
        if let Some(s) = &e.spillover {
            if s.names() == e.names() {
                push(
                    format!("{at}.worker.ecs.spillover"),
                    format!(
                        "{}/{} is the worker itself: name a sibling service",
                        s.cluster, s.service
                    ),
                );
            }
        }
    }
}

fn validate_schedules(t: &TargetConfig, at: &str, push: &mut impl FnMut(String, String)) {
    let p = &t.policy;
    for (j, s) in t.schedules.iter().enumerate() {
        let path = format!("{at}.schedules[{j}]");
        if s.duration.0.is_zero() {
            push(format!("{path}.duration"), "must be above 0s".into());
        }
        if s.min > p.max {
            push(
                format!("{path}.min"),
                format!(
                    "{} is above policy.max {}: a floor never exceeds max",
                    s.min, p.max
                ),
            );
        }
    }
}

/// `msk_iam` sets the security protocol and the mechanism itself, and the
/// token is the only credential: a setting that contradicts it is refused
/// rather than silently overridden.
fn validate_msk_iam(
    msk: &MskIamAuth,
    cluster: &KafkaClusterConfig,
    field: &dyn Fn(&str) -> String,
    push: &mut impl FnMut(String, String),
) {
    let region_ok = !msk.region.is_empty()
        && msk.region.len() <= 32
        && msk
            .region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && msk.region.contains('-');
    if !region_ok {
        push(
            field("msk_iam.region"),
            format!("{:?} is not an AWS region (like eu-west-1)", msk.region),
        );
    }
    if cluster.sasl_password_from.is_some() {
        push(
            field("msk_iam"),
            "and sasl_password_from are both set: MSK IAM logs in with AWS credentials, keep one"
                .into(),
        );
    }
    let expect = [
        ("security.protocol", "SASL_SSL"),
        ("sasl.mechanism", "OAUTHBEARER"),
        ("sasl.mechanisms", "OAUTHBEARER"),
    ];
    for (key, wanted) in expect {
        if let Some(v) = cluster.properties.get(key) {
            if !v.eq_ignore_ascii_case(wanted) {
                push(
                    field(&format!("properties.{key}")),
                    format!(
                        "{v:?} contradicts msk_iam, which logs in with {wanted} (leave it out)"
                    ),
                );
            }
        }
    }
    for key in cluster.properties.keys() {
        if key == "sasl.username" || key == "sasl.password" || key.starts_with("sasl.oauthbearer.")
        {
            push(
                field(&format!("properties.{key}")),
                "is not used with msk_iam (the token is signed with the container's AWS credentials): leave it out".into(),
            );
        }
    }
}

/// `topic` or `topics`, not both; topics named once each; growth only on one topic.
fn validate_kafka_topics(
    k: &super::signal::KafkaSignal,
    path: &str,
    push: &mut impl FnMut(String, String),
) {
    match (k.topic.trim().is_empty(), k.topics.is_empty()) {
        (true, true) => push(
            format!("{path}.topic"),
            "must not be empty (or name several in topics)".into(),
        ),
        (false, false) => push(
            format!("{path}.topics"),
            format!("and topic {:?} are both set: keep one", k.topic),
        ),
        _ => {}
    }
    let mut seen = BTreeSet::new();
    for (i, t) in k.topics.iter().enumerate() {
        if t.trim().is_empty() {
            push(format!("{path}.topics[{i}]"), "must not be empty".into());
        } else if !seen.insert(t.as_str()) {
            push(
                format!("{path}.topics[{i}]"),
                format!("{t:?} is named twice: its lag would count twice"),
            );
        }
    }
    if !k.topics.is_empty() && k.max_partitions.is_some() {
        push(
            format!("{path}.max_partitions"),
            "is for a signal on one topic: growth with topics is not built (which topic would grow?)".into(),
        );
    }
}
