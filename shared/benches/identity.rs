//! The cost of checking who a request speaks for (`shared::identity`): verifying a shopper token
//! (one HMAC-SHA256 over ~60 bytes and a constant-time compare) and the anonymous-id rule, per
//! request, natively. Run: `cargo bench -p shared --bench identity`.

#![expect(clippy::unwrap_used, reason = "benchmark")]

use std::hint::black_box;
use std::time::Instant;

use shared::identity::{ShopperSigner, authorize_user, check_anonymous_id};

fn per_call_ns(n: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..n / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_secs_f64() * 1e9 / f64::from(n)
}

fn main() {
    let signer = ShopperSigner::new(b"bench-signing-key-0123456789abcdef0123").unwrap();
    let now_ms = 1_790_000_000_000;
    let token = signer.sign("customer-1234567", now_ms / 1000 + 3600);
    let n = 200_000;
    let verify = per_call_ns(n, || {
        authorize_user(
            black_box(Some("customer-1234567")),
            black_box(Some(token.as_str())),
            Some(&signer),
            now_ms,
        )
        .unwrap();
    });
    let anon = per_call_ns(n, || {
        check_anonymous_id(black_box("0f9a6c1e-7b2d-4e3f-9a8b-1c2d3e4f5a6b")).unwrap();
    });
    let sign = per_call_ns(n, || {
        black_box(signer.sign(black_box("customer-1234567"), now_ms / 1000 + 3600));
    });
    println!("| check (native, per request) | ns |");
    println!("|---|---|");
    println!("| verify a user token | {verify:.0} |");
    println!("| anonymous-id rule | {anon:.0} |");
    println!("| sign a token (the shop's backend) | {sign:.0} |");
}
