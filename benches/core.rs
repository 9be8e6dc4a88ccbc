//! In-process cost of checking one token: the per-token function of every engine (the fast
//! decoder when it can, claims borrowed, ndjson by `report::json::write_outcome`) against the
//! general decoder alone (`serde_json::Value` maps). Kept short:
//! `cargo bench --bench core`. The binary's throughput is measured by `benches/throughput.sh`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mfacheck::Policy;
use mfacheck::internal::corpus::Corpus;
use mfacheck::internal::judge::Checker;
use mfacheck::internal::report::json::write_outcome;
use std::hint::black_box;
use std::time::Duration;

fn per_token(c: &mut Criterion) {
    let mut corpus = Corpus::new(1, None);
    let tokens: Vec<String> = (0..1000).map(|_| corpus.next_token()).collect();
    let policy = Policy::at(jiff::Timestamp::from_second(1_780_000_000).unwrap());
    let mut group = c.benchmark_group("per_token");
    group.throughput(Throughput::Elements(tokens.len() as u64));
    group.bench_function("checker_ndjson", |b| {
        let mut checker = Checker::new();
        let mut out = Vec::with_capacity(4 << 20);
        b.iter(|| {
            out.clear();
            for token in &tokens {
                checker.check("stdin:1", token, &policy, |outcome| write_outcome(&mut out, outcome)).unwrap();
            }
            black_box(out.len())
        })
    });
    group.bench_function("checker_verdict_only", |b| {
        let mut checker = Checker::new();
        b.iter(|| tokens.iter().filter(|t| checker.check("stdin:1", t, &policy, |outcome| outcome.compliant)).count())
    });
    group.bench_function("general_path_ndjson", |b| {
        let mut out = Vec::with_capacity(4 << 20);
        b.iter(|| {
            out.clear();
            for token in &tokens {
                let outcome = mfacheck::check_token("stdin:1", token, &policy);
                write_outcome(&mut out, &outcome).unwrap();
                out.push(b'\n');
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = per_token
}
criterion_main!(benches);
