//! Runs flow + interpolation on two raw frames, for tuning and timing the
//! interpolation outside the CLI (`benches/interp_compare.py` times the CLI).
//!
//! ```text
//! interp_bench A.f32 B.f32 WIDTH HEIGHT OUT.f32 [--quality 1/2] [--time 0.5] [--repeat N] [--serve]
//!              [--patch-stride N] [--search-iterations N] [--refine-iterations N]
//!              [--finest-refine-iterations N] [--sor-iterations N] [--smoothness S]
//!              [--polish-iterations N]
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
//! repeats, after one warm-up), and the interpolation's passes (`splat_cpu_ms=`,
//! `fill_cpu_ms=`, `compose_cpu_ms=`) one by one in CPU time (all threads).

use std::time::Instant;

use morph_core::Image;
use morph_core::ops::flow::{FlowParams, estimate_flow};
use morph_core::ops::interpolate::{CutRule, analyse_pair, compose, fill, interpolate, splat};
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

/// CPU time of all the process's threads so far, in ms (Linux; 0 elsewhere).
fn cpu_ms() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let ns: u64 = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    ns as f64 * 1e-6
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
    // FlowParams knobs, for tuning.
    let mut knobs: Vec<(String, String)> = Vec::new();
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
            "--patch-stride"
            | "--search-iterations"
            | "--refine-iterations"
            | "--finest-refine-iterations"
            | "--sor-iterations"
            | "--smoothness"
            | "--polish-iterations" => knobs.push((flag.clone(), value.clone())),
            other => panic!("unknown option {other}"),
        }
    }
    let mut params = FlowParams::with_quality(quality);
    for (flag, value) in &knobs {
        let v: f32 = value.parse().unwrap();
        match flag.as_str() {
            "--patch-stride" => params.patch_stride = v as u32,
            "--search-iterations" => params.search_iterations = v as u32,
            "--refine-iterations" => params.refine_iterations = v as u32,
            "--finest-refine-iterations" => params.finest_refine_iterations = v as u32,
            "--sor-iterations" => params.sor_iterations = v as u32,
            "--smoothness" => params.smoothness = v,
            "--polish-iterations" => params.polish_iterations = v as u32,
            _ => unreachable!(),
        }
    }
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
    let mut passes: [Vec<f64>; 3] = Default::default();
    let mut out = None;
    let mut cpu: [Vec<f64>; 3] = Default::default();
    for i in 0..=repeat {
        let c0 = cpu_ms();
        let s = Instant::now();
        let flow = estimate_flow(&a, &b, &params).unwrap();
        let f = s.elapsed().as_secs_f64() * 1e3;
        let c1 = cpu_ms();
        let s = Instant::now();
        let motion = analyse_pair(&a, &b, flow).unwrap();
        let an = s.elapsed().as_secs_f64() * 1e3;
        let c2 = cpu_ms();
        let s = Instant::now();
        let r = interpolate(&a, &b, &motion, t, CutRule::Nearest).unwrap();
        let it = s.elapsed().as_secs_f64() * 1e3;
        let c3 = cpu_ms();
        for (v, d) in cpu.iter_mut().zip([c1 - c0, c2 - c1, c3 - c2]) {
            v.push(d);
        }
        // The warp's passes one by one (what `interpolate` runs), in CPU
        // time of all threads: steadier than wall time on a shared machine.
        let mut clock = cpu_ms();
        let mut lap = |k: usize| {
            let now = cpu_ms();
            passes[k].push(now - clock);
            clock = now;
        };
        let splatted = splat(&motion.flow, t);
        lap(0);
        let vectors = fill(&splatted);
        lap(1);
        compose(&a, &b, &motion.flow, &vectors, &splatted.from_b, t);
        lap(2);
        if i > 0 {
            tf.push(f);
            ta.push(an);
            ti.push(it);
        }
        out = Some((r, motion));
    }
    let [cf, ca, ci] = cpu.map(|mut v| {
        v.remove(0);
        median(v)
    });
    println!("flow_ms={:.1} (cpu {cf:.1})", median(tf));
    println!("analyse_ms={:.1} (cpu {ca:.1})", median(ta));
    println!("interpolate_ms={:.1} (cpu {ci:.1})", median(ti));
    for (name, mut v) in ["splat", "fill", "compose"].into_iter().zip(passes) {
        v.remove(0);
        println!("  {name}_cpu_ms={:.1}", median(v));
    }
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
