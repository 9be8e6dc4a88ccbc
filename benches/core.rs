//! In-process cost of checking one token: the hot path (borrowed claims, ndjson written by hand)
//! against the slow path (`serde_json::Value` maps, `serde_json` output). Kept short:
//! `cargo bench --bench core`. The binary's throughput is measured by `benches/throughput.sh`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mfacheck::corpus::Corpus;
use mfacheck::hotpath::Checker;
use mfacheck::verdict::Policy;
use std::hint::black_box;
use std::time::Duration;

fn per_token(c: &mut Criterion) {
    let mut corpus = Corpus::new(1, None);
    let tokens: Vec<String> = (0..1000).map(|_| corpus.next_token()).collect();
    let policy = Policy::at(jiff::Timestamp::from_second(1_780_000_000).unwrap());
    let mut group = c.benchmark_group("per_token");
    group.throughput(Throughput::Elements(tokens.len() as u64));
    group.bench_function("hot_path_ndjson", |b| {
        let mut checker = Checker::new();
        let mut out = Vec::with_capacity(4 << 20);
        b.iter(|| {
            out.clear();
            for token in &tokens {
                checker.check("stdin:1", token, &policy, |view| view.write_json(&mut out)).unwrap().unwrap();
            }
            black_box(out.len())
        })
    });
    group.bench_function("hot_path_verdict_only", |b| {
        let mut checker = Checker::new();
        b.iter(|| {
            tokens.iter().filter(|t| checker.check("stdin:1", t, &policy, |view| view.compliant).unwrap()).count()
        })
    });
    group.bench_function("slow_path_ndjson", |b| {
        let mut out = Vec::with_capacity(4 << 20);
        b.iter(|| {
            out.clear();
            for token in &tokens {
                let outcome = mfacheck::check_token("stdin:1".into(), token, &policy);
                serde_json::to_writer(&mut out, &outcome).unwrap();
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
