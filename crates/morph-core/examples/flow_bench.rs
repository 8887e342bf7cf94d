//! Runs the CPU flow estimator on two raw frames, for `benches/flow_compare.py`.
//!
//! ```text
//! flow_bench A.f32 B.f32 WIDTH HEIGHT OUT.f32 [--quality 1/2] [--repeat N]
//!            [--linear] [--patch P] [--stride S] [--iters N] [--refine N]
//!            [--finest-refine N] [--sor N] [--alpha A] [--serve]
//! ```
//!
//! A and B are raw little-endian f32 RGBA, `WIDTH × HEIGHT × 4` samples, rows
//! top-down (8-bit code values / 255 unless `--linear` says they are scene-
//! linear float). The forward flow A → B is written to OUT as raw f32
//! `(u, v)` pairs, `WIDTH × HEIGHT × 2`, +x right, +y down. Prints
//! `compute_ms=<median over the repeats>` (after one warm-up run; file I/O
//! not included) and `threads=<rayon threads>`.
//!
//! With `--serve` it runs once to warm up, prints `ready`, then times one
//! run per line read from stdin and prints its `compute_ms=`; at the end of
//! input it writes OUT. The comparison script uses this to interleave our
//! runs with OpenCV's, so both see the same machine load.

use std::process::ExitCode;
use std::time::Instant;

use morph_core::Image;
use morph_core::image::SampleFormat;
use morph_core::ops::flow::{FlowParams, estimate_flow_one_way};
use morph_core::params::AnalysisQuality;

fn read_rgba(path: &str, width: u32, height: u32) -> Result<Image, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let n = width as usize * height as usize;
    if bytes.len() != n * 16 {
        return Err(format!(
            "{path}: {} bytes, expected {} for {width}x{height} RGBA f32",
            bytes.len(),
            n * 16
        ));
    }
    let pixels = bytes
        .chunks_exact(16)
        .map(|p| {
            let f = |i: usize| f32::from_le_bytes([p[i], p[i + 1], p[i + 2], p[i + 3]]);
            [f(0), f(4), f(8), f(12)]
        })
        .collect();
    Ok(Image::from_pixels(width, height, pixels))
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 5 {
        return Err("usage: flow_bench A.f32 B.f32 WIDTH HEIGHT OUT.f32 [options]".into());
    }
    let width: u32 = args[2].parse().map_err(|e| format!("WIDTH: {e}"))?;
    let height: u32 = args[3].parse().map_err(|e| format!("HEIGHT: {e}"))?;
    let mut a = read_rgba(&args[0], width, height)?;
    let mut b = read_rgba(&args[1], width, height)?;
    let mut params = FlowParams::default();
    let mut repeat = 5usize;
    let mut serve = false;
    let mut rest = args[5..].iter();
    while let Some(flag) = rest.next() {
        let mut value = || rest.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |s: &String| s.parse::<f32>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--quality" => {
                params.quality = AnalysisQuality::parse(value()?).map_err(|e| e.to_string())?
            }
            "--repeat" => repeat = num(value()?)?.max(1.0) as usize,
            "--serve" => serve = true,
            "--linear" => {
                a.metadata.format = Some(SampleFormat::F32);
                b.metadata.format = Some(SampleFormat::F32);
            }
            "--patch" => params.patch_size = num(value()?)? as u32,
            "--stride" => params.patch_stride = num(value()?)? as u32,
            "--iters" => params.search_iterations = num(value()?)? as u32,
            "--refine" => params.refine_iterations = num(value()?)? as u32,
            "--finest-refine" => params.finest_refine_iterations = num(value()?)? as u32,
            "--sor" => params.sor_iterations = num(value()?)? as u32,
            "--alpha" => params.smoothness = num(value()?)?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    let mut flow = estimate_flow_one_way(&a, &b, &params).map_err(|e| e.to_string())?;
    if serve {
        use std::io::{BufRead, Write};
        println!("ready");
        std::io::stdout().flush().map_err(|e| e.to_string())?;
        for line in std::io::stdin().lock().lines() {
            line.map_err(|e| e.to_string())?;
            let start = Instant::now();
            flow = estimate_flow_one_way(&a, &b, &params).map_err(|e| e.to_string())?;
            println!("compute_ms={:.2}", start.elapsed().as_secs_f64() * 1e3);
            std::io::stdout().flush().map_err(|e| e.to_string())?;
        }
        return write_flow(&args[4], &flow);
    }
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let start = Instant::now();
        flow = estimate_flow_one_way(&a, &b, &params).map_err(|e| e.to_string())?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!("compute_ms={:.2}", times[times.len() / 2]);
    println!("threads={}", rayon::current_num_threads());
    write_flow(&args[4], &flow)
}

fn write_flow(path: &str, flow: &morph_core::FlowField) -> Result<(), String> {
    let out: Vec<u8> = flow
        .vectors()
        .iter()
        .flat_map(|v| v.iter().flat_map(|c| c.to_le_bytes()))
        .collect();
    std::fs::write(path, out).map_err(|e| format!("{path}: {e}"))
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flow_bench: {e}");
            ExitCode::from(2)
        }
    }
}
