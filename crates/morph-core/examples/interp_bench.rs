//! Runs flow + interpolation on two raw frames, for tuning and timing the
//! interpolation outside the CLI (`benches/interp_compare.py` times the CLI).
//!
//! ```text
//! interp_bench A.f32 B.f32 WIDTH HEIGHT OUT.f32 [--quality 1/2] [--time 0.5] [--repeat N] [--serve]
//! ```
//!
//! With `--serve` it runs once to warm up, prints `ready`, then times one
//! in-between (flow, pair analysis and interpolation) per line read from
//! stdin and prints its `compute_ms=`; at the end of input it writes OUT
//! (as `flow_bench --serve`, so `benches/interp_compare.py` can interleave
//! it with OpenCV in one warm process each).
//!
//! A and B are raw little-endian f32 RGBA (`WIDTH × HEIGHT × 4`, rows
//! top-down). Writes the in-between to OUT (same layout), its vectors to
//! `OUT.vec` (f32 pairs) and the occlusion maps to `OUT.occ` (A's then B's).
//! Prints `flow_ms=`, `analyse_ms=` and `interpolate_ms=` (medians over the
//! repeats, after one warm-up).

use std::time::Instant;

use morph_core::Image;
use morph_core::ops::flow::{FlowParams, estimate_flow};
use morph_core::ops::interpolate::{CutRule, analyse_pair, interpolate};
use morph_core::params::AnalysisQuality;

fn read_rgba(path: &str, width: u32, height: u32) -> Image {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(
        bytes.len(),
        width as usize * height as usize * 16,
        "{path}: size"
    );
    let pixels = bytes
        .chunks_exact(16)
        .map(|p| {
            std::array::from_fn(|c| {
                f32::from_le_bytes([p[4 * c], p[4 * c + 1], p[4 * c + 2], p[4 * c + 3]])
            })
        })
        .collect();
    Image::from_pixels(width, height, pixels)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    assert!(
        args.len() >= 5,
        "usage: interp_bench A.f32 B.f32 WIDTH HEIGHT OUT.f32 [options]"
    );
    let (w, h): (u32, u32) = (args[2].parse().unwrap(), args[3].parse().unwrap());
    let (a, b) = (read_rgba(&args[0], w, h), read_rgba(&args[1], w, h));
    let (mut quality, mut t, mut repeat) = (AnalysisQuality::Half, 0.5f32, 3usize);
    let mut serve = false;
    let mut rest = args[5..].iter();
    while let Some(flag) = rest.next() {
        if flag == "--serve" {
            serve = true;
            continue;
        }
        let value = rest.next().expect("a value");
        match flag.as_str() {
            "--quality" => quality = AnalysisQuality::parse(value).unwrap(),
            "--time" => t = value.parse().unwrap(),
            "--repeat" => repeat = value.parse().unwrap(),
            other => panic!("unknown option {other}"),
        }
    }
    let params = FlowParams::with_quality(quality);
    let run = || {
        let flow = estimate_flow(&a, &b, &params).unwrap();
        let motion = analyse_pair(&a, &b, flow).unwrap();
        let r = interpolate(&a, &b, &motion, t, CutRule::Nearest).unwrap();
        (r, motion)
    };
    if serve {
        use std::io::{BufRead, Write};
        let mut out = run();
        println!("ready");
        std::io::stdout().flush().unwrap();
        for line in std::io::stdin().lock().lines() {
            line.unwrap();
            let s = Instant::now();
            out = run();
            println!("compute_ms={:.2}", s.elapsed().as_secs_f64() * 1e3);
            std::io::stdout().flush().unwrap();
        }
        return write_out(&args[4], &out.0, &out.1);
    }
    let (mut tf, mut ta, mut ti) = (Vec::new(), Vec::new(), Vec::new());
    let mut out = None;
    for i in 0..=repeat {
        let s = Instant::now();
        let flow = estimate_flow(&a, &b, &params).unwrap();
        let f = s.elapsed().as_secs_f64() * 1e3;
        let s = Instant::now();
        let motion = analyse_pair(&a, &b, flow).unwrap();
        let an = s.elapsed().as_secs_f64() * 1e3;
        let s = Instant::now();
        let r = interpolate(&a, &b, &motion, t, CutRule::Nearest).unwrap();
        let it = s.elapsed().as_secs_f64() * 1e3;
        if i > 0 {
            tf.push(f);
            ta.push(an);
            ti.push(it);
        }
        out = Some((r, motion));
    }
    println!("flow_ms={:.1}", median(tf));
    println!("analyse_ms={:.1}", median(ta));
    println!("interpolate_ms={:.1}", median(ti));
    let (r, motion) = out.unwrap();
    write_out(&args[4], &r, &motion);
}

fn write_out(
    path: &str,
    r: &morph_core::ops::interpolate::Interpolated,
    motion: &morph_core::ops::interpolate::PairMotion,
) {
    let bytes: Vec<u8> = r
        .image
        .as_flat()
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(path, bytes).unwrap();
    let vec: Vec<u8> = r
        .vectors
        .vectors()
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(format!("{path}.vec"), vec).unwrap();
    let occ: Vec<u8> = motion
        .flow
        .occlusion_forward
        .iter()
        .chain(&motion.flow.occlusion_backward)
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(format!("{path}.occ"), occ).unwrap();
}
