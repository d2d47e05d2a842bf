//! Replays every saved input in `fuzz/corpus/<target>/` through its target, then a bounded,
//! seeded set of mutations of each (byte flips, truncations, splices), on stable Rust.

use std::fs;
use std::path::Path;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut inputs: Vec<Vec<u8>> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus folder {} missing: {e}", dir.display()))
        .map(|entry| fs::read(entry.unwrap().path()).unwrap())
        .collect();
    inputs.sort();
    inputs
}

/// xorshift64: deterministic, so a failure reproduces.
struct Xorshift(u64);
impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(input: &[u8], rng: &mut Xorshift) -> Vec<u8> {
    let mut out = input.to_vec();
    match rng.below(4) {
        0 if !out.is_empty() => {
            let i = rng.below(out.len());
            out[i] ^= 1 << rng.below(8);
        }
        1 => out.truncate(rng.below(out.len() + 1)),
        2 => {
            let i = rng.below(out.len() + 1);
            out.insert(i, rng.next() as u8);
        }
        _ => {
            let i = rng.below(out.len() + 1);
            let tail = out[i..].to_vec();
            out.extend_from_slice(&tail);
        }
    }
    out
}

#[test]
fn replay_and_mutate_every_corpus() {
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    for target in l402_fuzz::TARGETS {
        let inputs = corpus(target);
        assert!(!inputs.is_empty(), "empty corpus for {target}");
        for input in &inputs {
            assert!(l402_fuzz::run(target, input));
            let mut current = input.clone();
            for _ in 0..300 {
                current = mutate(&current, &mut rng);
                l402_fuzz::run(target, &current);
            }
        }
    }
}

#[test]
fn the_verify_corpus_holds_a_token_that_verifies() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/verify/valid_token");
    let expected = l402_fuzz::valid_verify_input();
    if std::env::var_os("L402_FUZZ_WRITE_SEEDS").is_some() {
        fs::write(&path, &expected).unwrap();
    }
    let saved = fs::read(&path).unwrap_or_default();
    assert!(
        saved == expected,
        "{} is stale: rerun with L402_FUZZ_WRITE_SEEDS=1",
        path.display()
    );
    assert!(
        l402_fuzz::verifies(&saved),
        "the seed must reach the success path"
    );
}
