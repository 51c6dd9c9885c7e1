//! One simulated day at 1 s resolution with up to 1,000 workers: the diurnal
//! trace scaled ×20 (4,000 msg/s at peak, ~800 busy workers at 200 ms each),
//! scaled by qscale through the real reconcile path.

use criterion::{criterion_group, criterion_main, Criterion};

use qscale_core::config::Config;
use qscale_sim::{simulate, MetricRead, Qscale, QueueModel, SimSpec, Trace, DEMO_CONFIG};

fn bench(c: &mut Criterion) {
    let config = Config::from_yaml(DEMO_CONFIG).unwrap();
    let mut target = config.target("demo-sqs").unwrap().clone();
    target.policy.max = 1000;
    target.schedules.clear();
    let mut trace = Trace::bundled("diurnal").unwrap();
    trace.rates.iter_mut().for_each(|r| *r *= 20.0);
    let spec = SimSpec::new(trace, QueueModel::Sqs);
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.bench_function("day_1s_up_to_1000_workers", |b| {
        b.iter(|| {
            let mut q = Qscale::new(
                "qscale",
                target.clone(),
                60,
                MetricRead::Live { delay_s: 0 },
            );
            let r = simulate(&spec, &mut q);
            assert!(
                r.samples.iter().any(|s| s.workers > 500),
                "the bench must reach a large fleet"
            );
            r
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
